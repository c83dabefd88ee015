using System.Globalization;
using System.Security.Cryptography;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>Checks a generated dataset against its manifest: shard hashes and sizes, every row's labels and weights, every image decoding to the recorded size, and no unknown files where shards live.</summary>
public sealed class DatasetVerifier(IImageDecoder decoder)
{
    /// <summary>Tolerance on Σ label and Σ weights (float32 storage of values that sum to 1 in double).</summary>
    public const double SumTolerance = 1e-4;

    private readonly IImageDecoder _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));

    public async Task<VerifyReport> VerifyAsync(string directory, CancellationToken ct)
    {
        var dataset = GeneratedDataset.Open(directory);
        var m = dataset.Manifest;
        var root = dataset.Directory;
        var problems = new List<string>();
        var warnings = new List<string>();
        void Problem(FormattableString text) => problems.Add(text.ToString(CultureInfo.InvariantCulture));

        if (!m.Complete)
        {
            Problem($"{GenerationManifest.FileName}: the run is not complete (complete = false); rerun or resume the generation.");
        }
        if (m.Shards.Count != m.Plan.Shards)
        {
            Problem($"{GenerationManifest.FileName}: lists {m.Shards.Count} shard(s) but the plan has {m.Plan.Shards}.");
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        var pixels = new byte[m.Options.Size * m.Options.Size * 3];
        long rows = 0;
        foreach (var shard in m.Shards)
        {
            ct.ThrowIfCancellationRequested();
            known.Add(shard.File);
            var path = Path.Combine(root, shard.File);
            if (!File.Exists(path))
            {
                Problem($"{shard.File}: missing (listed in {GenerationManifest.FileName}).");
                continue;
            }
            var length = new FileInfo(path).Length;
            if (length != shard.Bytes)
            {
                Problem($"{shard.File}: {length} bytes, {GenerationManifest.FileName} records {shard.Bytes} (truncated or changed).");
            }
            string sha;
            var stream = File.OpenRead(path);
            await using (stream.ConfigureAwait(false))
            {
                sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
            }
            if (!string.Equals(sha, shard.Sha256, StringComparison.Ordinal))
            {
                Problem($"{shard.File}: SHA-256 {sha} differs from {shard.Sha256} in {GenerationManifest.FileName}.");
            }

            var index = 0;
            try
            {
                await foreach (var row in dataset.Format.ReadRowsAsync(root, shard.File, ct).ConfigureAwait(false))
                {
                    if (dataset.Format.Kind == ShardFormat.Folder)
                    {
                        known.Add($"{FolderShardWriter.ImagesDirectory}/{row.ImagePath}");
                    }
                    CheckRow(shard.File, index, row, m, pixels, problems);
                    index++;
                }
            }
            catch (ZetaPrepException e)
            {
                Problem($"{shard.File}: unreadable after row {index}: {e.Message}");
            }
            if (index != shard.Rows)
            {
                Problem($"{shard.File}: {index} row(s) read, {GenerationManifest.FileName} records {shard.Rows}.");
            }
            rows += index;
        }
        if (m.Shards.Sum(s => s.Rows) != m.Totals.Rows)
        {
            Problem($"{GenerationManifest.FileName}: totals.rows = {m.Totals.Rows} but the shards hold {m.Shards.Sum(s => s.Rows)}.");
        }
        foreach (var index in dataset.Format.IndexFiles)
        {
            if (!File.Exists(Path.Combine(root, index)))
            {
                Problem($"{index}: missing (the {dataset.Format.Name} format's index, written at the end of a run).");
            }
        }
        if (!File.Exists(Path.Combine(root, DatasetCard.FileName)))
        {
            warnings.Add($"{DatasetCard.FileName}: missing (the dataset card is written at the end of a run).");
        }
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (dataset.Format.IsInDataArea(relative) && !known.Contains(relative))
            {
                warnings.Add($"{relative}: unknown file where shards live (not in {GenerationManifest.FileName}); remove it if it is not yours.");
            }
        }
        return new VerifyReport(problems, warnings, m.Shards.Count, rows);
    }

    private void CheckRow(string shard, int index, ShardRow row, GenerationManifest m, byte[] pixels, List<string> problems)
    {
        var where = string.Create(CultureInfo.InvariantCulture, $"{shard} row {index} ({row.ImagePath})");
        void Problem(FormattableString text) => problems.Add(where + ": " + text.ToString(CultureInfo.InvariantCulture));

        if (row.Label.Length != m.Classes.Count)
        {
            Problem($"label has {row.Label.Length} entries, the dataset has {m.Classes.Count} classes.");
        }
        var labelSum = row.Label.Sum(v => (double)v);
        if (Math.Abs(labelSum - 1) > SumTolerance || row.Label.Any(v => !(v >= 0)))
        {
            Problem($"label sums to {labelSum:G6} (or has a negative/NaN entry); a soft label must sum to 1.");
        }
        var weightSum = row.Weights.Sum(v => (double)v);
        if (row.Weights.Length == 0 || Math.Abs(weightSum - 1) > SumTolerance)
        {
            Problem($"weights sum to {weightSum:G6}; they must sum to 1.");
        }
        if (row.Weights.Length != row.Sources.Length)
        {
            Problem($"{row.Sources.Length} sources but {row.Weights.Length} weights.");
        }
        if (row.Dominant < 0 || row.Dominant >= m.Classes.Count)
        {
            Problem($"dominant class {row.Dominant} is outside 0..{m.Classes.Count - 1}.");
        }
        try
        {
            var header = _decoder.ReadHeader(row.ImageBytes.Span, where);
            if (header.Width != m.Options.Size || header.Height != m.Options.Size)
            {
                Problem($"image is {header.Width}×{header.Height}, the manifest records {m.Options.Size}×{m.Options.Size}.");
                return;
            }
            _decoder.DecodeResized(row.ImageBytes.Span, where, m.Options.Size, ResizeMode.Stretch, pixels); // a full decode: corrupt data fails here
        }
        catch (ZetaPrepException e)
        {
            Problem($"image does not decode ({e.Message}).");
        }
    }
}
