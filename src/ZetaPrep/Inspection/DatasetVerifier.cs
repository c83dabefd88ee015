using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>Checks a generated dataset against its manifest: shard hashes and sizes, every row's labels and weights, every image decoding to the recorded size, the class names the shards record, and no unknown files where shards live.</summary>
public sealed partial class DatasetVerifier(IImageDecoder decoder)
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
        if (threads is < 1 or > GenerateOptions.MaxThreads)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--threads: must be an integer from 1 to {GenerateOptions.MaxThreads} (got {threads})."));
        }
        // A live run is still writing: its manifest says "not complete" and may not list its newest shard yet, and the
        // advice for an interrupted run (resume it, restore the manifest) is what its lock refuses. Checked before the
        // manifest is opened: a run that has not finished its first shard has none yet.
        if (RunWriting(directory) is { } writing)
        {
            return new VerifyReport([], [], 0, 0) { RunWriting = writing };
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
        // The plan is a pure function of the recorded options and input count: it names every shard and its rows.
        var planned = PlannedShards(dataset, out var planProblem);
        if (planProblem is not null)
        {
            problems.Add(planProblem);
        }
        if (planned is null && m.Shards.Count != m.Plan.Shards)
        {
            Problem($"{GenerationManifest.FileName}: lists {m.Shards.Count} shard(s) but the plan has {m.Plan.Shards}.");
        }
        // The methods the plan makes rows with: a row recording another was not made by this run.
        var methods = planned is null ? null : MethodsOf(m);

        var known = new HashSet<string>(StringComparer.Ordinal);
        long rows = 0;
        var checkedShards = 0;
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
            checkedShards++;
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
                CheckRows(shard.File, index, chunk, m, methods, threads, rowProblems, ct);
                index += chunk.Count;
                chunk.Clear();
            }
            try
            {
                await foreach (var (row, ownProblems) in ReadRowsAsync(dataset, shard.File, ct).ConfigureAwait(false))
                {
                    if (ownProblems.Count > 0)
                    {
                        // A folder shard's missing or changed image, a WebDataset sample's members: that row's problems, before
                        // those of its checks (when it reads); the rows after it are still checked.
                        CheckChunk();
                        var where = row is null
                            ? string.Create(CultureInfo.InvariantCulture, $"{shard.File} row {index}")
                            : string.Create(CultureInfo.InvariantCulture, $"{shard.File} row {index} ({row.ImagePath})");
                        rowProblems.AddRange(ownProblems.Select(p => $"{where}: {p}"));
                    }
                    if (row is null)
                    {
                        index++;
                        continue;
                    }
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
                var after = index == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" after row {index - 1}");
                rowProblems.Add($"{shard.File}: unreadable{after}: {e.Message}");
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
            else if (planned?.Shards.TryGetValue(shard.File, out var plannedShard) == true && plannedShard.Rows != index)
            {
                Problem($"{shard.File}: {index} row(s), as {GenerationManifest.FileName} records, but the plan gives this shard {plannedShard.Rows}.");
            }
            rows += index;
        }
        // A Parquet shard names its classes itself, and that is what loaders and train read: manifest.json must agree.
        // Set where manifest.json is shown to disagree with the shards or its plan: the card, rendered from it, is then not
        // compared (it may well be the run's own, and "write the card again" from such a manifest would be wrong advice).
        var manifestDisagrees = false;
        var footers = await ShardClassNames.ReadFootersAsync(dataset, ct).ConfigureAwait(false);
        foreach (var names in ShardClassNames.Group(footers))
        {
            if (!names.Match(m.Classes))
            {
                problems.Add(names.MismatchWith(m.Classes));
                manifestDisagrees = true;
            }
        }
        var metadataProblems = GenerationMetadataProblems(dataset, footers);
        problems.AddRange(metadataProblems);
        manifestDisagrees |= metadataProblems.Count > 0;
        if (planned is not null)
        {
            var before = problems.Count;
            ComparePlanWithEntries(dataset, planned, metadataProblems.Count == 0, problems);
            manifestDisagrees |= problems.Count > before;
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
        else if (planned is not null && !manifestDisagrees)
        {
            // A card is compared with what this build renders: one written by another zetaprep version may render its
            // YAML differently with nothing wrong, and --resume refuses another version, so there it is a warning.
            var written = dataset.Manifest.Tool.Version;
            if (written == Pipeline.DatasetGenerator.ToolVersion)
            {
                if (CardProblem(dataset, "loaders read the card: put those lines back, or rerun the generate command with --resume, which writes the card again (replacing any edits to it)") is { } card)
                {
                    problems.Add(card);
                }
            }
            else if (CardProblem(dataset, $"the output was written by zetaprep {written}, which may render the card otherwise (this is {Pipeline.DatasetGenerator.ToolVersion}): check that its data_files name the shards before publishing, or regenerate the output with this version") is { } card)
            {
                warnings.Add(card);
            }
        }
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (ZetaPrep.Pipeline.OutputLock.IsLockFile(relative))
            {
                continue;
            }
            // A writer's temp name counts by its final name: WebDataset's ".shard-000003.tar.tmp-…" ends in no ".tar".
            var inDataArea = dataset.Format.IsInDataArea(relative) || (UnfinishedShardOf(relative) is { } final && dataset.Format.IsInDataArea(final));
            if (inDataArea && !known.Contains(relative))
            {
                // One the dataset card's data_files glob matches is loaded with the shards (HF datasets, DuckDB's glob):
                // the data a user reads is then not what the manifest describes.
                if (planned?.Shards.ContainsKey(relative) == true)
                {
                    // A shard the plan names: the manifest lost its entry, the file is very likely the run's own.
                    Problem($"{relative}: a shard of the plan that {GenerationManifest.FileName} does not list (loaders read it with the others); do not delete it: restore the manifest.json the run wrote, or rerun the generate command with --resume, which checks the shards and lists them again.");
                }
                else if (GlobMatches(dataset.Format.DataFilesGlob, relative))
                {
                    Problem($"{relative}: not in {GenerationManifest.FileName}, but matched by the dataset's data_files ({dataset.Format.DataFilesGlob}), so loaders read its rows with the shards; remove it.");
                }
                else if (UnfinishedShardOf(relative) is { } unfinished && dataset.Format.IsInDataArea(unfinished))
                {
                    // A writer's temp name (".NAME.tmp-SUFFIX"): no live run holds the output (checked above), so one stopped.
                    warnings.Add($"{relative}: an unfinished {unfinished} that a stopped run left (loaders skip hidden files); rerun the generate command with --resume, which deletes it and redoes its shard, or delete it.");
                }
                else
                {
                    warnings.Add($"{relative}: unknown file where shards live (not in {GenerationManifest.FileName}); remove it if it is not yours.");
                }
            }
            else if (!inDataArea && !dataset.Format.IndexFiles.Contains(relative) && ShardFormats.IsOutputFile(relative))
            {
                // Another --format's shard or index (a worker redone in another format, an output overwritten by hand):
                // no loader of this format reads it, but it is not this dataset's, and a reader of that format would be misled.
                warnings.Add($"{relative}: a file of another shard format, not of this {dataset.Format.Name} output ({GenerationManifest.FileName} does not list it); remove it if it is not yours.");
            }
        }
        return new VerifyReport(problems, warnings, checkedShards, rows) { ShardsListed = m.Shards.Count };
    }

    /// <summary>The file (relative path: a shard, or a folder-format image) whose temp file <paramref name="relative"/> is, by
    /// the writers' ".NAME.tmp-SUFFIX" naming; null for any other file.</summary>
    private static string? UnfinishedShardOf(string relative)
    {
        var slash = relative.LastIndexOf('/');
        var name = relative[(slash + 1)..];
        var tmp = name.LastIndexOf(".tmp-", StringComparison.Ordinal);
        return name.StartsWith('.') && tmp > 1 ? relative[..(slash + 1)] + name[1..tmp] : null;
    }

    /// <summary>The line saying which live run holds <paramref name="directory"/>'s lock, or null when none does (a lock file a killed run left holds nothing).</summary>
    private static string? RunWriting(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        return OutputLock.WritersIn(full) is { } w
            ? $"{full}: {w.Who} writing there ({w.Holds} {w.Locks}); nothing was checked: run zetaprep verify again after {w.Ends}."
            : null;
    }

    /// <summary>The plan <paramref name="Plan"/> and its shards by relative file name, as the run that wrote the output named them.</summary>
    private sealed record Planned(MixPlan Plan, Dictionary<string, ShardPlan> Shards, IReadOnlyList<string> Names);

    /// <summary>Replays the plan from manifest.json's options and input count (no pixels); null, with the problem, when they make none.</summary>
    private static Planned? PlannedShards(GeneratedDataset dataset, out string? problem)
    {
        var m = dataset.Manifest;
        problem = null;
        MixPlan plan;
        try
        {
            plan = MixPlan.Create(m.Input.Count, m.Options.ToPlanOptions());
        }
        catch (Exception e) when (e is ZetaPrepException or ArgumentException)
        {
            problem = $"{GenerationManifest.FileName}: its options and input.count make no plan ({e.Message.TrimEnd('.')}); restore the manifest.json the run wrote, or generate the output again.";
            return null;
        }
        var split = SplitOf(m);
        var names = plan.Shards.Select(p => dataset.Format.ShardFileName(split, p.Index, p.Count)).ToList();
        var byName = new Dictionary<string, ShardPlan>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            byName[names[i]] = plan.Shards[i];
        }
        return new Planned(plan, byName, names);
    }

    /// <summary>The --split the shard names carry (manifest.json does not record it): the first entry's, else the default.</summary>
    private static string SplitOf(GenerationManifest m)
    {
        foreach (var entry in m.Shards)
        {
            if (SplitShardName().Match(entry.File) is { Success: true } match)
            {
                return match.Groups["split"].Value;
            }
        }
        return "train";
    }

    [GeneratedRegex(@"\A(?:data|labels)/(?<split>\w+(?:\.\w+)*)-[0-9]{5,}-of-[0-9]{5,}\.parquet\z", RegexOptions.CultureInvariant)]
    private static partial Regex SplitShardName();

    /// <summary>
    /// Holds the manifest's plan record and shard entries against the replayed plan: a shard dropped from the manifest (with
    /// its rows taken off the totals) or an entry the plan does not name is what loaders read differently.
    /// </summary>
    private static void ComparePlanWithEntries(GeneratedDataset dataset, Planned planned, bool metadataAgrees, List<string> problems)
    {
        var m = dataset.Manifest;
        var plan = planned.Plan;
        var o = m.Options;
        var originals = o.KeepOriginals ? " × 2 (--keep-originals)" : "";
        var basis = dataset.Format.Kind == ShardFormat.Parquet && metadataAgrees
            ? string.Create(CultureInfo.InvariantCulture, $"input_count {m.Input.Count} × passes {o.Passes}{originals}, as the shards' zetaprep metadata records")
            : string.Create(CultureInfo.InvariantCulture, $"{GenerationManifest.FileName}'s input.count {m.Input.Count} × passes {o.Passes}{originals}");
        if (m.Plan.Rows != plan.TotalRows || m.Plan.Shards != plan.Shards.Count || m.Plan.Batches != plan.Batches.Count)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{GenerationManifest.FileName}: its plan record says {m.Plan.Rows} rows, {m.Plan.Batches} batches, {m.Plan.Shards} shards, but its options give {plan.TotalRows} rows, {plan.Batches.Count} batches, {plan.Shards.Count} shards ({basis}); restore the manifest.json the run wrote, or generate the output again."));
        }
        foreach (var entry in m.Shards.Where(e => !planned.Shards.ContainsKey(e.File)))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{entry.File}: listed in {GenerationManifest.FileName} but not a shard of its plan ({plan.Shards.Count} shard(s): {Names(planned.Names, 2)}); restore the manifest.json the run wrote, or generate the output again."));
        }
        if (!m.Complete)
        {
            return; // an unfinished run lists the shards written so far, and that is already a problem
        }
        var listed = m.Shards.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        var lacking = planned.Names.Where(n => !listed.Contains(n)).ToList();
        var listedRows = m.Shards.Sum(e => e.Rows);
        if (lacking.Count == 0 && listedRows == plan.TotalRows)
        {
            return;
        }
        var missing = lacking.Where(n => !File.Exists(Path.Combine(dataset.Directory, n))).ToList();
        var unlisted = lacking.Where(n => File.Exists(Path.Combine(dataset.Directory, n))).ToList();
        var details = new StringBuilder();
        if (missing.Count > 0)
        {
            details.Append(CultureInfo.InvariantCulture, $"; {Names(missing, 3)} {(missing.Count == 1 ? "is" : "are")} missing");
        }
        if (unlisted.Count > 0)
        {
            details.Append(CultureInfo.InvariantCulture, $"; {Names(unlisted, 3)} {(unlisted.Count == 1 ? "is" : "are")} there but not listed");
        }
        var fix = missing.Count > 0 ? "rerun the generate command with --resume, which writes the missing shards" : "restore the manifest.json the run wrote, or rerun the generate command with --resume";
        problems.Add(string.Create(CultureInfo.InvariantCulture,
            $"{GenerationManifest.FileName}: plan has {plan.TotalRows} rows in {plan.Shards.Count} shards ({basis}), the manifest lists {m.Shards.Count} shards, {listedRows} rows{details}; {fix}."));
    }

    /// <summary>Up to <paramref name="most"/> names, then how many more.</summary>
    private static string Names(IReadOnlyList<string> names, int most) =>
        string.Join(", ", names.Take(most)) + (names.Count > most ? string.Create(CultureInfo.InvariantCulture, $" and {names.Count - most} more") : "");

    private static string Shown(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => "none",
        _ => value.GetRawText(),
    };

    /// <summary>
    /// Holds manifest.json against the generation metadata every Parquet shard records in its footer (the byte-deciding
    /// options, input count and fingerprint the rows were made with): an edited manifest then describes other data than
    /// the shards hold. A key a shard does not record (older versions) is not compared; WebDataset and folder shards record none.
    /// </summary>
    private static List<string> GenerationMetadataProblems(GeneratedDataset dataset, List<(string File, ShardFileMetadata Meta)> footers)
    {
        var problems = new List<string>();
        var expected = GenerationMetadata.Fields(dataset.Manifest).Where(f => f.ManifestPath is not null)
            .Select(f => (f.Key, ManifestPath: f.ManifestPath!, Json: f.ValueJson())).ToList();
        // key → shard value → shards recording it, in manifest order
        var differing = new Dictionary<string, List<(string Value, List<string> Files)>>(StringComparer.Ordinal);
        foreach (var (file, meta) in footers)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(meta.GenerationJson);
            }
            catch (JsonException)
            {
                problems.Add($"{file}: its zetaprep generation metadata is not JSON; the shard was not written by ZetaPrep or was changed: rerun the generate command with --resume, which writes it again.");
                continue;
            }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                foreach (var (key, _, json) in expected)
                {
                    if (!document.RootElement.TryGetProperty(key, out var value) || value.GetRawText() == json)
                    {
                        continue;
                    }
                    var shown = Shown(value);
                    if (!differing.TryGetValue(key, out var groups))
                    {
                        differing[key] = groups = [];
                    }
                    var at = groups.FindIndex(g => g.Value == shown);
                    if (at < 0)
                    {
                        groups.Add((shown, [file]));
                    }
                    else
                    {
                        groups[at].Files.Add(file);
                    }
                }
            }
        }
        foreach (var (key, manifestPath, json) in expected)
        {
            if (!differing.TryGetValue(key, out var groups))
            {
                continue;
            }
            using var mine = JsonDocument.Parse(json);
            foreach (var (value, files) in groups)
            {
                var more = files.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {files.Count - 1} more shard(s))") : "";
                problems.Add($"{GenerationManifest.FileName}: {manifestPath} is {Shown(mine.RootElement)}, but {files[0]}{more} records {key} {value} in its zetaprep metadata, what its rows were made with; {GenerationManifest.FileName} or the shards were changed after generation: restore the manifest.json the run wrote, or generate the output again.");
            }
        }
        return problems;
    }

    /// <summary>
    /// The dataset card's YAML parts that loaders read (configs → data_files, dataset_info → features and num_examples)
    /// against what <see cref="DatasetCard"/> renders from manifest.json; the rest of the card (licence, text a user
    /// added) is the user's. Null when they agree.
    /// </summary>
    private static string? CardProblem(GeneratedDataset dataset, string fix)
    {
        string rendered;
        try
        {
            rendered = DatasetCard.Render(dataset.Manifest);
        }
        catch (Exception e) when (e is ZetaPrepException or ArgumentException)
        {
            return null; // the manifest's own problem is reported already
        }
        var card = File.ReadAllText(Path.Combine(dataset.Directory, DatasetCard.FileName));
        YamlMappingNode? have;
        try
        {
            have = FrontMatter(card);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet throws more than YamlException on some malformed input (InvalidOperationException for an
            // unclosed flow sequence): the card's own problem either way, never verify's crash.
            var why = e is YamlException ? e.Message.TrimEnd('.') : $"the YAML parser stopped with {e.GetType().Name}";
            return $"{DatasetCard.FileName}: its YAML front matter does not parse ({why}), so loaders cannot read its configs and dataset_info; {fix}.";
        }
        if (have is null)
        {
            return $"{DatasetCard.FileName}: no YAML front matter (between '---' lines at the top), so loaders do not see its configs and dataset_info; {fix}.";
        }
        var want = FrontMatter(rendered)!;
        foreach (var (key, what) in new[] { ("configs", "configs/data_files"), ("dataset_info", "dataset_info (features, splits/num_examples)") })
        {
            // Held as YAML means it, not as typed: what the manifest renders must be in the card's block as values (quotes,
            // flow or block style, folded lines, key and list order aside), so a card re-saved by a YAML tool or given
            // the Hub's extra fields (num_bytes, dataset_size) still agrees.
            var mine = want.Children[new YamlScalarNode(key)];
            var lacks = have.Children.TryGetValue(new YamlScalarNode(key), out var theirs) ? Lacks(mine, theirs) : $"{key}:";
            if (lacks is not null)
            {
                return $"{DatasetCard.FileName}: {what} differ from what {GenerationManifest.FileName} gives (the card lacks `{lacks}`); {fix}.";
            }
        }
        return null;
    }

    /// <summary>
    /// What of <paramref name="want"/> <paramref name="have"/> does not hold, as the YAML line that says it ("path:
    /// 'data/*.parquet'"), or null when it holds all of it: every key of a mapping with what it holds (more keys allowed),
    /// every item of a list in some item of the other (any order), a scalar by its value.
    /// </summary>
    internal static string? Lacks(YamlNode want, YamlNode have)
    {
        switch (want)
        {
            case YamlScalarNode w:
                return have is YamlScalarNode hv && hv.Value == w.Value ? null : Line(w);
            case YamlMappingNode w:
                if (have is not YamlMappingNode h)
                {
                    return Line(w);
                }
                foreach (var (key, value) in w.Children)
                {
                    if (!h.Children.TryGetValue(key, out var theirs))
                    {
                        return Entry(key, value);
                    }
                    if (Lacks(value, theirs) is { } missing)
                    {
                        return value is YamlScalarNode ? Entry(key, value) : missing;
                    }
                }
                return null;
            case YamlSequenceNode w:
                if (have is not YamlSequenceNode hs)
                {
                    return Line(w);
                }
                var unused = hs.Children.ToList();
                for (var i = 0; i < w.Children.Count; i++)
                {
                    var item = w.Children[i];
                    var match = unused.FindIndex(u => Lacks(item, u) is null);
                    if (match < 0)
                    {
                        // Named as the item in the same place lacks it, where there is one.
                        return i < hs.Children.Count && Lacks(item, hs.Children[i]) is { } there ? there : Line(item);
                    }
                    unused.RemoveAt(match);
                }
                return null;
            default:
                return null;
        }

        static string Entry(YamlNode key, YamlNode value) => value is YamlScalarNode ? $"{Scalar(key)}: {Scalar(value)}" : $"{Scalar(key)}:";

        static string Line(YamlNode node) => node switch
        {
            YamlScalarNode s => Scalar(s),
            YamlMappingNode { Children.Count: > 0 } m => Entry(m.Children.First().Key, m.Children.First().Value),
            _ => "-",
        };

        static string Scalar(YamlNode node) => node is YamlScalarNode { Value: var v, Style: var style }
            ? style == ScalarStyle.SingleQuoted ? $"'{v?.Replace("'", "''", StringComparison.Ordinal)}'" : v ?? ""
            : "";
    }

    /// <summary>A card's YAML front matter (between '---' lines at its top) as a mapping; null without one. A front matter that does not parse is a <see cref="YamlException"/>.</summary>
    private static YamlMappingNode? FrontMatter(string card)
    {
        var lines = card.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines.Length == 0 || lines[0].TrimEnd() != "---")
        {
            return null;
        }
        var end = Array.FindIndex(lines, 1, l => l.TrimEnd() == "---");
        if (end < 0)
        {
            return null; // no closing '---': not front matter
        }
        var yaml = new YamlStream();
        yaml.Load(new StringReader(string.Join('\n', lines[1..end])));
        return yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode as YamlMappingNode : new YamlMappingNode();
    }

    /// <summary>
    /// Rows of a shard in order, each with the problems of its own storage: for the folder format a missing or changed
    /// image (the image is that row's own file, and the row is then not read), for WebDataset the sample's members; so one
    /// bad row does not hide the rows after it.
    /// </summary>
    private static async IAsyncEnumerable<(ShardRow? Row, IReadOnlyList<string> Problems)> ReadRowsAsync(GeneratedDataset dataset, string shardFile, [EnumeratorCancellation] CancellationToken ct)
    {
        switch (dataset.Format.Kind)
        {
            case ShardFormat.Folder:
                await foreach (var (row, problem) in FolderShardFormat.ReadRowsOrProblemsAsync(dataset.Directory, shardFile, ct).ConfigureAwait(false))
                {
                    yield return problem is null ? (row, []) : (null, [problem + FolderShardFormat.ResumeAdvice]);
                }
                break;
            case ShardFormat.WebDataset:
                // A sample's own defects (members, .cls) are its row's problems, so one does not hide the samples after it.
                await foreach (var item in WebDatasetShardFormat.ReadRowsOrProblemsAsync(dataset.Directory, shardFile, ct).ConfigureAwait(false))
                {
                    yield return item;
                }
                break;
            default:
                await foreach (var row in dataset.Format.ReadRowsAsync(dataset.Directory, shardFile, ct).ConfigureAwait(false))
                {
                    yield return (row, []);
                }
                break;
        }
    }

    /// <summary>
    /// Whether a data_files glob matches a relative path as the loaders match it (fsspec for HF datasets, DuckDB): '*' and
    /// '?' never cross '/', '**' does. <see cref="System.IO.Enumeration.FileSystemName"/>'s '*' crosses '/', so
    /// data/*.parquet matched data/extra/x.parquet, which no loader reads.
    /// </summary>
    internal static bool GlobMatches(string glob, string relativePath) =>
        ZetaPrep.Sources.PathGlob.ToRegex(glob, ignoreCase: false).IsMatch(relativePath);

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

    /// <summary>
    /// Where the row's <c>original</c> flag disagrees with the rest of it, why: an original is the unmixed resized input,
    /// one source (itself) with weights [1] and method none (FORMATS.md), and a consumer selecting <c>WHERE original</c>
    /// for ERM data must not get a mixed row.
    /// </summary>
    private static string? OriginalProblem(ShardRow row)
    {
        if (!row.Original)
        {
            return row.Method == "none" ? "method is none (an unmixed original), but original is false." : null;
        }
        var wrong = new List<string>();
        if (row.Sources.Length != 1)
        {
            wrong.Add(string.Create(CultureInfo.InvariantCulture, $"{row.Sources.Length} sources"));
        }
        if (row.Weights is not [1f])
        {
            wrong.Add(row.Weights.Length <= 8
                ? "weights [" + string.Join(", ", row.Weights.Select(w => w.ToString(CultureInfo.InvariantCulture))) + "]"
                : string.Create(CultureInfo.InvariantCulture, $"{row.Weights.Length} weights"));
        }
        if (row.Method is { } method && method != "none")
        {
            wrong.Add($"method {method}");
        }
        return wrong.Count == 0 ? null : $"original is true, but the row has {Join(wrong)}; an original (the unmixed input) has one source, itself, with weights [1] and method none.";
    }

    /// <summary>The methods rows of <paramref name="m"/>'s plan are made with (none for originals), in the order inspect lists them; null where the plan cannot be had (reported already).</summary>
    private static List<string>? MethodsOf(GenerationManifest m)
    {
        RowComposition made;
        try
        {
            made = RowComposition.Of(m);
        }
        catch (Exception e) when (e is ZetaPrepException or ArgumentException)
        {
            return null;
        }
        var methods = made.ByMethod.Select(b => b.Method).ToList();
        if (made.Originals > 0)
        {
            methods.Add(MixMethodOptions.NameOf(MixMethod.None));
        }
        return methods;
    }

    /// <summary>"a", "a and b", "a, b and c".</summary>
    private static string Join(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];

    /// <summary>Checks rows <paramref name="first"/>… of a shard on up to <paramref name="threads"/> threads; their problems are appended in row order.</summary>
    private void CheckRows(string shard, int first, List<ShardRow> rows, GenerationManifest m, IReadOnlyList<string>? methods, int threads, List<string> problems, CancellationToken ct)
    {
        var found = new List<string>?[rows.Count];
        var pixels = m.Options.Size * m.Options.Size * 3;
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = ct },
            () => new byte[pixels],
            (i, _, buffer) =>
            {
                var list = new List<string>();
                CheckRow(shard, first + i, rows[i], m, methods, buffer, list);
                found[i] = list;
                return buffer;
            },
            _ => { });
        foreach (var list in found)
        {
            problems.AddRange(list!);
        }
    }

    private void CheckRow(string shard, int index, ShardRow row, GenerationManifest m, IReadOnlyList<string>? methods, byte[] pixels, List<string> problems)
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
        if (OriginalProblem(row) is { } original)
        {
            problems.Add(where + ": " + original);
        }
        if (row.Method is { } method && methods is not null && !methods.Contains(method, StringComparer.Ordinal))
        {
            Problem($"method is {method}, but {GenerationManifest.FileName}'s options (method {m.Options.Method}) make only {Join(methods)} rows.");
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
            // The decoder names the image by `where` already: said once, at the start of the line.
            var reason = e.Message.StartsWith(where + ": ", StringComparison.Ordinal) ? e.Message[(where.Length + 2)..] : e.Message;
            Problem($"image does not decode ({reason.TrimEnd('.')}).");
        }
    }
}
