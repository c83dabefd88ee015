using System.Globalization;
using System.Text;
using ZetaPrep.Mixing;
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

        var rows = RowComposition.Of(m);
        var o = m.Options;
        var zeta = o.Method is "zeta" or "cutmix+zeta" or "zeta,cutmix";
        var source = Path.GetFileName(m.Input.Source.TrimEnd('/'));

        L("---");
        L(m.Input.Licence is { } licence ? $"license: other\nlicense_name: {Quote(licence)}" : "license: unknown");
        L("task_categories:");
        L("- image-classification");
        L("tags:");
        foreach (var tag in Tags(o.Method, rows))
        {
            L($"- {tag}");
        }
        L(Inv($"pretty_name: {Quote($"{Title(o)} of {source}{Parameters(o, rows)}")}"));
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
        L(Inv($"# {Title(o)} dataset: {m.Totals.Rows} images ({RowsText(rows)}), {m.Classes.Count} classes"));
        L();
        foreach (var paragraph in MethodParagraphs(o, rows))
        {
            L(paragraph);
            L();
        }
        L($"Generated offline by [ZetaPrep](https://example.invalid/zetaprep) {m.Tool.Version}.");
        L();
        L(m.Input.Licence is { } inherited
            ? $"**Licence:** images derived from the input dataset ({m.Input.Preset}) inherit its licence and terms of use: {inherited}."
            : "**Licence:** images derived from the input dataset inherit its licence and terms of use (e.g. CC-BY-NC for ISIC); " +
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
        L($"| method | `{o.Method}` |");
        L(Inv($"| rows | {rows.Rows}: {RowsText(rows)} |"));
        if (zeta)
        {
            L($"| N (samples mixed per ζ output) | {NText(o.N, rows)} |");
            L($"| γ | {GammaSpec.Display(o.Gamma)} |");
        }
        if (o.Alpha is { } alpha)
        {
            L(Inv($"| α ({(o.Method == "mixup" ? "mixup's λ" : "CutMix's box area")} ~ Beta(α, α)) | {alpha} |"));
        }
        if (o.Method == "zeta,cutmix")
        {
            L(Inv($"| --switch-prob (CutMix instead of ζ per output) | {o.SwitchProb} |"));
        }
        if (o.Prob != 1 && o.Method != "none")
        {
            L(Inv($"| --prob (fraction of outputs mixed) | {o.Prob} |"));
        }
        if (o.LabelSmoothing != 0)
        {
            L(Inv($"| label smoothing ε | {o.LabelSmoothing} |"));
        }
        if (o.KeepOriginals)
        {
            L("| --keep-originals | yes: each batch's resized originals before its outputs |");
        }
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

    /// <summary>The method's name for titles: ζ-mixup, mixup, CutMix, CutMix on ζ-mixup, ζ-mixup or CutMix, Resized originals.</summary>
    private static string Title(GenerationOptionsRecord o) => o.Method switch
    {
        "zeta" => "ζ-mixup",
        "mixup" => "mixup",
        "cutmix" => "CutMix",
        "cutmix+zeta" => "CutMix on ζ-mixup",
        "zeta,cutmix" => "ζ-mixup or CutMix",
        "none" => "Resized originals",
        _ => o.Method,
    };

    /// <summary>" (N=8, γ=2.8)", " (α=0.2)", …: the knobs of the method that were used; empty for none.</summary>
    private static string Parameters(GenerationOptionsRecord o, RowComposition rows)
    {
        var p = new List<string>();
        if (o.ZetaKnobs(rows) is { } zeta)
        {
            p.Add(zeta);
        }
        if (o.Alpha is { } alpha)
        {
            p.Add(Inv($"α={alpha}"));
        }
        if (o.Method == "zeta,cutmix")
        {
            p.Add(Inv($"switch-prob={o.SwitchProb}"));
        }
        if (o.Prob != 1 && o.Method != "none")
        {
            p.Add(Inv($"prob={o.Prob}"));
        }
        if (o.KeepOriginals)
        {
            p.Add("with originals");
        }
        return p.Count == 0 ? "" : $" ({string.Join(", ", p)})";
    }

    private static IEnumerable<string> Tags(string method, RowComposition rows)
    {
        if (method is "zeta" or "cutmix+zeta" or "zeta,cutmix")
        {
            yield return "zeta-mixup";
        }
        if (method == "mixup")
        {
            yield return "mixup";
        }
        if (method is "cutmix" or "cutmix+zeta" or "zeta,cutmix")
        {
            yield return "cutmix";
        }
        yield return rows.Mixed > 0 ? "synthetic" : "resized-originals";
    }

    /// <summary>"41 ζ-mixed, 41 originals (--keep-originals)": the rows by how they were made.</summary>
    private static string RowsText(RowComposition rows)
    {
        var parts = rows.ByMethod.Select(x => Inv($"{x.Rows} {x.Method switch
        {
            "zeta" => "ζ-mixed",
            "mixup" => "mixup",
            "cutmix" => "CutMix",
            "cutmix+zeta" => "CutMix on ζ",
            _ => x.Method,
        }}")).ToList();
        if (rows.KeptOriginals > 0)
        {
            parts.Add(Inv($"{rows.KeptOriginals} originals (--keep-originals)"));
        }
        if (rows.Unmixed > 0)
        {
            parts.Add(rows.Mixed == 0 && rows.KeptOriginals == 0 ? Inv($"{rows.Unmixed} resized originals, unmixed") : Inv($"{rows.Unmixed} originals left unmixed by --prob"));
        }
        return string.Join(", ", parts);
    }

    /// <summary>N as asked and as used: an output mixes at most the inputs of its batch (a pass's last batch may be smaller).</summary>
    private static string NText(string n, RowComposition rows)
    {
        if (rows.ZetaNMin is not int min || rows.ZetaNMax is not int max)
        {
            return $"{n} (no ζ output was written)";
        }
        var used = min == max ? Inv($"{min}") : Inv($"{min}–{max}");
        if (n == "batch")
        {
            return $"batch: every input of the output's batch ({used})";
        }
        return used == n ? n : $"{n} asked, {used} used: an output mixes at most the inputs of its batch";
    }

    private static List<string> MethodParagraphs(GenerationOptionsRecord o, RowComposition rows)
    {
        var p = new List<string>();
        const string Zeta = "a ζ-mixed image is the convex combination x̂ = Σ wᵢxᵢ of N images of its batch with ζ-mixup weights " +
            "wᵢ = i^(−γ) / Σⱼ j^(−γ) by rank i, the dominant image first (Abhishek, Brown, Hamarneh, *MIDL 2023*); its soft label is ŷ = Σ wᵢyᵢ.";
        const string CutMix = "a CutMix image is an input with a box of a partner from its batch pasted in, the box's area from λ ~ Beta(α, α) " +
            "(Yun et al., *ICCV 2019*); its label weighs the two labels by area (column `lam` = the input's unpasted fraction).";
        switch (o.Method)
        {
            case "zeta":
                p.Add("ζ-mixup: " + Zeta);
                break;
            case "mixup":
                p.Add("mixup (Zhang et al., *ICLR 2018*): an image is λx₁ + (1−λ)x₂ of an input and a partner from its batch, λ ~ Beta(α, α); " +
                      "its label is λy₁ + (1−λ)y₂ (column `lam` = λ).");
                break;
            case "cutmix":
                p.Add("CutMix: " + CutMix);
                break;
            case "cutmix+zeta":
                p.Add("CutMix on ζ-mixup (the paper's Table 1): " + Zeta + " A box of another ζ-mixed image of the batch is then pasted in; " +
                      "the label is (1−a)·ŷ + a·ŷ′ for the pasted fraction a (column `lam` = 1−a).");
                break;
            case "zeta,cutmix":
                p.Add(Inv($"Each output is CutMix with probability {o.SwitchProb} (--switch-prob), else ζ-mixup. ζ-mixup: ") + Zeta + " CutMix: " + CutMix);
                break;
            case "none":
                p.Add("No mixing (`--method none`, the ERM baseline): every image is a resized original with its own label (column `original` = true).");
                break;
            default:
                break;
        }
        if (o.Prob != 1 && o.Method != "none")
        {
            p.Add(Inv($"`--prob {o.Prob}`: each output is mixed with probability {o.Prob}, drawn from the seed; the other {rows.Unmixed} are resized originals with their own labels (column `original` = true)."));
        }
        if (o.KeepOriginals)
        {
            p.Add(Inv($"`--keep-originals`: {rows.KeptOriginals} rows are the resized originals, each batch's before its mixed rows (column `original` = true, weight 1, γ 0)."));
        }
        if (o.LabelSmoothing != 0)
        {
            p.Add(Inv($"Labels are smoothed before mixing: y ← y(1−ε) + ε/K with ε = {o.LabelSmoothing}."));
        }
        return p;
    }

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
                // Only the columns a batch stacks: default_collate refuses the null lam of ζ rows and the sources lists,
                // whose lengths differ with --keep-originals or a capped N (QA).
                L("ds = ds.with_format(\"torch\", columns=[\"image\", \"label\"])   # ds[i][\"image\"]: uint8 tensor, ds[i][\"label\"]: soft target for cross_entropy");
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
