using System.Globalization;
using System.Security.Cryptography;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>Checks a generated dataset against its manifest: shard hashes and sizes, every row's labels and weights, every image decoding to the recorded size, the class names the shards record, and no unknown files where shards live.</summary>
public sealed class DatasetVerifier(IImageDecoder decoder)
{
    /// <summary>Tolerance on Σ label and Σ weights (float32 storage of values that sum to 1 in double).</summary>
    public const double SumTolerance = 1e-4;

    private readonly IImageDecoder _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));

    /// <summary>Rows checked per parallel step: enough to keep every thread busy, few enough to hold in memory (PNG bytes only).</summary>
    private const int ChunkRows = 256;

    public Task<VerifyReport> VerifyAsync(string directory, CancellationToken ct) => VerifyAsync(directory, Environment.ProcessorCount, ct);

    /// <summary>
    /// Checks <paramref name="directory"/>. Shards are read one after another, and each is hashed while its rows are
    /// checked on <paramref name="threads"/> threads; problems are reported in shard and row order whatever the thread count.
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(string directory, int threads, CancellationToken ct)
    {
        if (threads < 1)
        {
            throw ZetaPrepException.Usage($"--threads: must be ≥ 1 (got {threads}).");
        }
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
        long rows = 0;
        var readAll = true;
        foreach (var shard in m.Shards)
        {
            ct.ThrowIfCancellationRequested();
            known.Add(shard.File);
            var path = Path.Combine(root, shard.File);
            if (!File.Exists(path))
            {
                Problem($"{shard.File}: missing (listed in {GenerationManifest.FileName}).");
                readAll = false;
                continue;
            }
            var length = new FileInfo(path).Length;
            if (length != shard.Bytes)
            {
                Problem($"{shard.File}: {length} bytes, {GenerationManifest.FileName} records {shard.Bytes} (truncated or changed).");
            }
            // The hash reads the file while the rows are checked.
            var hashing = Task.Run(async () =>
            {
                var stream = File.OpenRead(path);
                await using (stream.ConfigureAwait(false))
                {
                    return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
                }
            }, ct);
            // Observed here as well, for when a row check throws first (cancellation) and the hash is never awaited.
            _ = hashing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            if (dataset.Format.Kind == ShardFormat.Folder)
            {
                await AddListedImagesAsync(root, shard.File, known, ct).ConfigureAwait(false);
            }

            var index = 0;
            var rowProblems = new List<string>();
            var chunk = new List<ShardRow>(ChunkRows);
            void CheckChunk()
            {
                CheckRows(shard.File, index, chunk, m, threads, rowProblems, ct);
                index += chunk.Count;
                chunk.Clear();
            }
            try
            {
                await foreach (var row in dataset.Format.ReadRowsAsync(root, shard.File, ct).ConfigureAwait(false))
                {
                    chunk.Add(row);
                    if (chunk.Count == ChunkRows)
                    {
                        CheckChunk();
                    }
                }
                CheckChunk();
            }
            catch (ZetaPrepException e)
            {
                CheckChunk();
                readAll = false;
                rowProblems.Add(string.Create(CultureInfo.InvariantCulture, $"{shard.File}: unreadable after row {index}: {e.Message}"));
            }
            var sha = await hashing.ConfigureAwait(false);
            if (!string.Equals(sha, shard.Sha256, StringComparison.Ordinal))
            {
                Problem($"{shard.File}: SHA-256 {sha} differs from {shard.Sha256} in {GenerationManifest.FileName}.");
            }
            problems.AddRange(rowProblems);
            if (index != shard.Rows)
            {
                Problem($"{shard.File}: {index} row(s) read, {GenerationManifest.FileName} records {shard.Rows}.");
            }
            rows += index;
        }
        // A Parquet shard names its classes itself, and that is what loaders and train read: manifest.json must agree.
        foreach (var names in await ShardClassNames.ReadAsync(dataset, ct).ConfigureAwait(false))
        {
            if (!names.Match(m.Classes))
            {
                problems.Add(names.MismatchWith(m.Classes));
            }
        }
        // The totals against the manifest's own shard entries; what the shards really hold is the rows just read, which
        // is a count only when every listed shard was read to its end.
        var listedRows = m.Shards.Sum(s => s.Rows);
        if (listedRows != m.Totals.Rows)
        {
            var held = readAll ? string.Create(CultureInfo.InvariantCulture, $"; the shards hold {rows}") : "";
            Problem($"{GenerationManifest.FileName}: totals.rows = {m.Totals.Rows} but its shard entries add up to {listedRows} row(s){held}.");
        }
        var listedBytes = m.Shards.Sum(s => s.Bytes);
        if (listedBytes != m.Totals.Bytes)
        {
            Problem($"{GenerationManifest.FileName}: totals.bytes = {m.Totals.Bytes} but its shard entries add up to {listedBytes} byte(s).");
        }
        foreach (var index in dataset.Format.IndexFiles)
        {
            if (!File.Exists(Path.Combine(root, index)))
            {
                Problem($"{index}: missing (the {dataset.Format.Name} format's index, written at the end of a run).");
            }
        }
        if (problems.Count == 0 && m.Complete)
        {
            // The index is a pure function of the shards: loaders read it (labels.parquet is the folder format's data_files,
            // the wids index lists the tars), so one emptied, edited or taken from another run fails here.
            foreach (var (index, expected) in await dataset.Format.BuildIndexAsync(root, [.. m.Shards.Select(s => s.File)], ct).ConfigureAwait(false))
            {
                if (!File.ReadAllBytes(Path.Combine(root, index)).AsSpan().SequenceEqual(expected))
                {
                    Problem($"{index}: differs from what the shards give (the {dataset.Format.Name} format's index, which loaders read); rerun the generate command with --resume to write it again.");
                }
            }
        }
        if (!File.Exists(Path.Combine(root, DatasetCard.FileName)))
        {
            warnings.Add($"{DatasetCard.FileName}: missing (the dataset card is written at the end of a run).");
        }
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (ZetaPrep.Pipeline.OutputLock.IsLockFile(relative))
            {
                continue;
            }
            if (dataset.Format.IsInDataArea(relative) && !known.Contains(relative))
            {
                // One the dataset card's data_files glob matches is loaded with the shards (HF datasets, DuckDB's glob):
                // the data a user reads is then not what the manifest describes.
                if (System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(dataset.Format.DataFilesGlob, relative, ignoreCase: false))
                {
                    Problem($"{relative}: not in {GenerationManifest.FileName}, but matched by the dataset's data_files ({dataset.Format.DataFilesGlob}), so loaders read its rows with the shards; remove it.");
                }
                else
                {
                    warnings.Add($"{relative}: unknown file where shards live (not in {GenerationManifest.FileName}); remove it if it is not yours.");
                }
            }
        }
        return new VerifyReport(problems, warnings, m.Shards.Count, rows);
    }

    /// <summary>
    /// Adds the images a folder shard's label part lists to <paramref name="known"/>, before its rows are read: reading stops at
    /// the first missing or changed image, and the images listed after it are still this shard's, never unknown files.
    /// </summary>
    private static async Task AddListedImagesAsync(string root, string shardFile, HashSet<string> known, CancellationToken ct)
    {
        IList<FolderLabelRow> listed;
        try
        {
            listed = await FolderShardWriter.ReadLabelsAsync(Path.Combine(root, shardFile), ct).ConfigureAwait(false);
        }
        catch (ZetaPrepException)
        {
            return; // an unreadable label part is reported when its rows are read
        }
        foreach (var image in listed)
        {
            known.Add(image.FileName.Replace('\\', '/'));
        }
    }

    /// <summary>Checks rows <paramref name="first"/>… of a shard on up to <paramref name="threads"/> threads; their problems are appended in row order.</summary>
    private void CheckRows(string shard, int first, List<ShardRow> rows, GenerationManifest m, int threads, List<string> problems, CancellationToken ct)
    {
        var found = new List<string>?[rows.Count];
        var pixels = m.Options.Size * m.Options.Size * 3;
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = ct },
            () => new byte[pixels],
            (i, _, buffer) =>
            {
                var list = new List<string>();
                CheckRow(shard, first + i, rows[i], m, buffer, list);
                found[i] = list;
                return buffer;
            },
            _ => { });
        foreach (var list in found)
        {
            problems.AddRange(list!);
        }
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
        if (!(row.Gamma >= 0 && float.IsFinite(row.Gamma)))
        {
            Problem($"gamma is {row.Gamma}; it must be a finite number ≥ 0.");
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
