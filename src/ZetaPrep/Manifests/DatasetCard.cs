using System.Globalization;
using System.Text;
using ZetaPrep.Shards;

namespace ZetaPrep.Manifests;

/// <summary>OUT/README.md: a HuggingFace dataset card (YAML header + how it was made and how to load it), a pure function of the manifest.</summary>
/// <remarks>No clock, device or thread count goes in, so reruns and resumed runs write the same card.</remarks>
public static class DatasetCard
{
    public const string FileName = "README.md";

    /// <summary>Renders the card for <paramref name="manifest"/>.</summary>
    public static string Render(GenerationManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var format = ShardFormats.Get(manifest.Options.Format);
        var m = manifest;
        var s = new StringBuilder();
        void L(string line = "") => s.Append(line).Append('\n');

        L("---");
        L(m.Input.Licence is { } licence ? $"license: other\nlicense_name: {Quote(licence)}" : "license: unknown");
        L("task_categories:");
        L("- image-classification");
        L("tags:");
        L("- zeta-mixup");
        L("- synthetic");
        L(Inv($"pretty_name: {Quote($"ζ-mixup of {Path.GetFileName(m.Input.Source.TrimEnd('/'))} (N={m.Options.N}, γ={m.Options.Gamma})")}"));
        L("configs:");
        L("- config_name: default");
        L("  data_files:");
        L("  - split: train");
        L($"    path: {Quote(format.DataFilesGlob)}");
        L("dataset_info:");
        L("  features:");
        WriteFeatures(s, format.Kind, m.Classes);
        L("  splits:");
        L("  - name: train");
        L(Inv($"    num_examples: {m.Totals.Rows}"));
        L("---");
        L();
        L(Inv($"# ζ-mixup dataset: {m.Totals.Rows} synthetic images, {m.Classes.Count} classes"));
        L();
        L("Every image is a convex combination x̂ = Σ wᵢxᵢ of N originals with ζ-mixup weights wᵢ ∝ sᵢ^(−γ) (Abhishek, Brown, Hamarneh, " +
          "*MIDL 2023*); its soft label is ŷ = Σ wᵢyᵢ. Generated offline by [ZetaPrep](https://example.invalid/zetaprep) " +
          $"{m.Tool.Version}.");
        L();
        L(m.Input.Licence is { } inherited
            ? $"**Licence:** synthetic images derived from the input dataset ({m.Input.Preset}) inherit its licence and terms of use: {inherited}."
            : "**Licence:** synthetic images derived from the input dataset inherit its licence and terms of use (e.g. CC-BY-NC for ISIC); " +
              "set `license:` above accordingly before publishing.");
        L();
        L("## How it was generated");
        L();
        L("```sh");
        L(m.CommandLine);
        L("```");
        L();
        if (m.Workers is { Count: > 0 } workers)
        {
            L(Inv($"Written by {workers.Count} workers into one directory and joined by `zetaprep merge`; the command above (the workers' without `--worker`, run outside a job array) writes the same shards on one machine. The workers ran:"));
            L();
            L("```sh");
            foreach (var w in workers)
            {
                L(w.CommandLine);
            }
            L("```");
            L();
        }
        L("| setting | value |");
        L("|---|---|");
        L($"| N (samples mixed per output) | {m.Options.N} |");
        L($"| γ | {m.Options.Gamma} |");
        L(Inv($"| seed | {m.Options.Seed} |"));
        L(Inv($"| batch size / passes | {m.Options.BatchSize} / {m.Options.Passes} |"));
        L(Inv($"| image size | {m.Options.Size}×{m.Options.Size} RGB PNG, resize `{m.Options.Resize}` |"));
        L(Inv($"| decoder / PNG zlib level | `{m.Options.Codec}` / {m.Options.PngLevel} |"));
        L(Inv($"| input | {m.Input.Count} images from `{m.Input.Source}` |"));
        L($"| input fingerprint (SHA-256) | `{m.Input.Fingerprint}` |");
        L($"| classes | {string.Join(", ", m.Classes.Select((c, i) => Inv($"{i} = `{c}`")))} |");
        L(Inv($"| format | `{format.Name}`, {m.Shards.Count} shard(s), {m.Totals.Bytes} bytes |"));
        L();
        L("`manifest.json` lists every shard with its row count, size and SHA-256; `zetaprep verify .` re-checks them.");
        L();
        L("## Loading");
        L();
        WriteLoading(s, format.Kind, m.Shards.Count);
        return s.ToString();
    }

    /// <summary>Writes <c>OUT/README.md</c> atomically.</summary>
    public static void WriteAtomically(string outputDirectory, GenerationManifest manifest) =>
        AtomicFile.Write(Path.Combine(outputDirectory, FileName), Encoding.UTF8.GetBytes(Render(manifest)));

    private static void WriteFeatures(StringBuilder s, ShardFormat kind, IReadOnlyList<string> classes)
    {
        void L(string line) => s.Append(line).Append('\n');
        void ClassLabel(string name, string indent)
        {
            L($"{indent}- name: {name}");
            L($"{indent}  dtype:");
            L($"{indent}    class_label:");
            L($"{indent}      names:");
            for (var i = 0; i < classes.Count; i++)
            {
                L(Inv($"{indent}        '{i}': {Quote(classes[i])}"));
            }
        }
        void Common(string indent, bool classLabel)
        {
            L($"{indent}- name: label");
            L($"{indent}  sequence: float32");
            if (classLabel)
            {
                ClassLabel("dominant", indent);
            }
            else
            {
                L($"{indent}- name: dominant");
                L($"{indent}  dtype: int64");
            }
            L($"{indent}- name: sources");
            L($"{indent}  sequence: string");
            L($"{indent}- name: weights");
            L($"{indent}  sequence: float32");
            L($"{indent}- name: gamma");
            L($"{indent}  dtype: float32");
            // Every column the shards hold: datasets casts each file to these features and refuses one whose columns differ.
            L($"{indent}- name: original");
            L($"{indent}  dtype: bool");
            L($"{indent}- name: method");
            L($"{indent}  dtype: string");
            L($"{indent}- name: lam");
            L($"{indent}  dtype: float32");
        }
        switch (kind)
        {
            case ShardFormat.WebDataset:
                // HuggingFace's webdataset loader names features after the member suffixes.
                L("  - name: __key__");
                L("    dtype: string");
                L("  - name: __url__");
                L("    dtype: string");
                L("  - name: png");
                L("    dtype: image");
                L("  - name: json");
                L("    struct:");
                Common("    ", classLabel: false);
                ClassLabel("cls", "  ");
                break;
            case ShardFormat.Folder:
                L("  - name: file_name");
                L("    dtype: string");
                Common("  ", classLabel: true);
                L("  - name: sha256");
                L("    dtype: string");
                break;
            default:
                L("  - name: image");
                L("    dtype: image");
                Common("  ", classLabel: true);
                break;
        }
    }

    private static void WriteLoading(StringBuilder s, ShardFormat kind, int shards)
    {
        void L(string line = "") => s.Append(line).Append('\n');
        var last = Inv($"{Math.Max(shards - 1, 0):D6}");
        switch (kind)
        {
            case ShardFormat.WebDataset:
                L("HuggingFace `datasets`:");
                L("```python");
                L("from datasets import load_dataset");
                L("ds = load_dataset(\"webdataset\", data_files={\"train\": \"shard-*.tar\"})[\"train\"]   # png → PIL, json → dict, cls → int");
                L("```");
                L("webdataset (streaming) and wids (random access through `shardindex.json`):");
                L("```python");
                L("import webdataset as wds, wids");
                L($"ds = wds.WebDataset(\"shard-{{000000..{last}}}.tar\").decode(\"pil\").to_tuple(\"png\", \"json\")");
                L("ds2 = wids.ShardListDataset(\"shardindex.json\")   # ds2[i][\".png\"], ds2[i][\".json\"]");
                L("```");
                L("PyTorch (soft targets):");
                L("```python");
                L("import torch, torchvision.transforms.functional as F");
                L("loader = torch.utils.data.DataLoader(ds.map_tuple(F.to_tensor, lambda j: torch.tensor(j[\"label\"])), batch_size=64)");
                L("# loss = torch.nn.functional.cross_entropy(model(x), y)   # y: soft label, sums to 1");
                L("```");
                L("DuckDB reads no tar; query the per-shard totals instead:");
                L("```sql");
                L("SELECT s.file, s.rows FROM (SELECT unnest(shards) AS s FROM read_json('manifest.json'));");
                L("```");
                break;
            case ShardFormat.Folder:
                L("Images are `images/KEY.png`; `labels.parquet` has one row per image (`file_name` relative to this directory).");
                L();
                L("HuggingFace `datasets` (labels; open images by `file_name`):");
                L("```python");
                L("from datasets import load_dataset");
                L("labels = load_dataset(\"parquet\", data_files=\"labels.parquet\")[\"train\"]");
                L("```");
                L("PyTorch:");
                L("```python");
                L("import pandas as pd, torch");
                L("from PIL import Image");
                L("t = pd.read_parquet(\"labels.parquet\")");
                L("img = Image.open(t.file_name[0]); target = torch.tensor(t.label[0])   # soft target for cross_entropy");
                L("```");
                L("webdataset: not this layout; generate with `--format webdataset` for tar shards.");
                L();
                L("DuckDB:");
                L("```sql");
                L("SELECT dominant, count(*), avg(gamma) FROM read_parquet('labels.parquet') GROUP BY dominant;");
                L("```");
                break;
            default:
                L("HuggingFace `datasets` (image → PIL, dominant → ClassLabel):");
                L("```python");
                L("from datasets import load_dataset");
                L("ds = load_dataset(\"parquet\", data_files={\"train\": \"data/*.parquet\"})[\"train\"]   # or load_dataset(\"path/to/this/dir\")");
                L("```");
                L("PyTorch:");
                L("```python");
                L("import torch");
                L("ds = ds.with_format(\"torch\")   # ds[i][\"image\"]: uint8 tensor, ds[i][\"label\"]: soft target for cross_entropy");
                L("loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)");
                L("```");
                L("webdataset: not this layout; generate with `--format webdataset` for tar shards.");
                L();
                L("DuckDB:");
                L("```sql");
                L("SELECT dominant, count(*), avg(gamma) FROM read_parquet('data/*.parquet') GROUP BY dominant;");
                L("```");
                break;
        }
    }

    /// <summary>A YAML single-quoted scalar (quotes doubled), safe for any class name.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "'";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
