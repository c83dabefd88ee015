using System.Globalization;
using ZetaPrep.Analysis;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Sources;

namespace ZetaPrep.Training;

/// <summary>
/// Generates shards per (method, seed), trains on each, reads the best validation figures and the seed-0 shards'
/// intrinsic dimension, and writes results.md, results.json and results.png. Finished runs are reused.
/// </summary>
public sealed class MethodComparison
{
    public const string MarkdownFile = "results.md";
    public const string JsonFile = "results.json";
    public const string ChartFile = "results.png";

    private const int GenerateBatchSize = ComparisonOptions.GenerateBatchSize;

    private readonly IImageDecoder _decoder;

    public MethodComparison(IImageDecoder decoder) => _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));

    /// <summary>DIR/shards/&lt;method&gt;-s&lt;seed&gt;.</summary>
    public static string ShardDirectory(string outDir, string method, int seed) => Path.Combine(outDir, "shards", RunName(method, seed));

    /// <summary>DIR/runs/&lt;method&gt;-s&lt;seed&gt;.</summary>
    public static string RunDirectory(string outDir, string method, int seed) => Path.Combine(outDir, "runs", RunName(method, seed));

    public async Task<ComparisonResult> RunAsync(ComparisonOptions options, IValidationSource validation, Action<string>? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validation);
        options.Validate();
        if (!Directory.Exists(options.InputDirectory))
        {
            throw ZetaPrepException.Usage($"--in {options.InputDirectory}: directory not found; give an ImageFolder (one sub-folder per class).");
        }

        var outDir = Path.GetFullPath(options.OutputDirectory);
        RefuseOutInsideIn(outDir, options.InputDirectory);
        RefuseForeignOut(outDir);
        var methods = options.Methods.Select(m => m.Trim().ToLowerInvariant()).ToList();
        // The input count decides the shards' rows, so --k is checked here, before hours of training that it would waste.
        var source = new ImageFolderSource(options.InputDirectory);
        var listing = await source.ListAsync(cancellationToken).ConfigureAwait(false);
        options = ResolveK(options, listing.Items.Count, methods, log);
        var input = new Lazy<Task<InputInfo>>(() => FingerprintAsync(source, listing, options, cancellationToken));
        await CheckExistingRunsAsync(options, validation, outDir, methods, input, cancellationToken).ConfigureAwait(false);

        // What this compare creates is removed again if it fails before its first run finishes (see RemoveCreated).
        var created = new[] { outDir, Path.Combine(outDir, "shards"), Path.Combine(outDir, "runs") }.Where(d => !Directory.Exists(d)).ToList();
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"compare --out {outDir}: cannot create the directory ({e.Message.TrimEnd('.')}); choose a writable location for --out.", e);
        }
        var runs = new List<ComparisonRun>();
        int total = methods.Count * options.Seeds;
        int index = 0;
        try
        {
            foreach (var method in methods)
            {
                for (int seed = 0; seed < options.Seeds; seed++)
                {
                    index++;
                    var prefix = string.Create(CultureInfo.InvariantCulture, $"[{index}/{total}] {method} seed {seed}");
                    runs.Add(await RunOneAsync(options, validation, outDir, method, seed, prefix, log, cancellationToken).ConfigureAwait(false));
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && runs.Count == 0)
        {
            // A cancelled compare keeps what it made (rerunning it continues from there); a failed one leaves nothing new behind.
            RemoveCreated(outDir, created);
            throw;
        }

        var summaries = new List<MethodSummary>();
        foreach (var method in methods)
        {
            log?.Invoke($"{method}: intrinsic dimension of seed-0 shards (k = {options.K}, at most {options.MaxSamples} images)");
            var dint = await IntrinsicDimension.AnalyzeAsync(ShardDirectory(outDir, method, 0), new IntrinsicDimensionOptions
            {
                K = options.K ?? ComparisonOptions.DefaultK,
                MaxSamples = options.MaxSamples,
                Device = options.Device,
            }, cancellationToken).ConfigureAwait(false);
            var mine = runs.Where(r => r.Method == method).ToList();
            var acc = MethodSummary.MeanStd([.. mine.Select(r => r.ValAccuracy)]);
            var micro = MethodSummary.MeanStd([.. mine.Select(r => r.ValF1Micro)]);
            var macro = MethodSummary.MeanStd([.. mine.Select(r => r.ValF1Macro)]);
            summaries.Add(new MethodSummary(method, mine.Count, acc.Mean, acc.Std, micro.Mean, micro.Std, macro.Mean, macro.Std, dint.Mean, dint.Std, mine.Average(r => r.ImagesPerS)));
        }

        var result = new ComparisonResult(runs, summaries, Path.Combine(outDir, MarkdownFile), Path.Combine(outDir, JsonFile), Path.Combine(outDir, ChartFile));
        WriteOrExplain(outDir, () => ComparisonReport.Write(result, options));
        return result;
    }

    private async Task<ComparisonRun> RunOneAsync(ComparisonOptions options, IValidationSource validation, string outDir, string method, int seed, string prefix, Action<string>? log, CancellationToken ct)
    {
        var shards = ShardDirectory(outDir, method, seed);
        var run = RunDirectory(outDir, method, seed);
        // last.json names the last epoch whose checkpoint was saved: metrics.jsonl alone may hold an unsaved one.
        var saved = Explained(method, seed, "checking", run, options, () => Trainer.SavedEpoch(run)) ?? 0;
        var manifest = Path.Combine(shards, GenerationManifest.FileName);
        // CheckExistingRunsAsync has made sure that a run recorded here was made with this comparison's settings and input.
        if (saved >= options.Epochs)
        {
            var done = ReadMetrics(Path.Combine(run, Trainer.MetricsFile));
            if (done.Any(e => e.Epoch == options.Epochs))
            {
                log?.Invoke($"{prefix}: complete run in {run}, reusing its metrics");
                if (seed == 0 && !IsComplete(manifest))
                {
                    // D_int reads the seed-0 shards: deleted (or never finished) ones are made again, byte for byte the same.
                    await GenerateAsync(options, outDir, shards, method, seed, prefix, log, ct).ConfigureAwait(false);
                }

                return Summarize(method, seed, done.Where(e => e.Epoch <= options.Epochs).ToList(), reused: true);
            }
        }

        await GenerateAsync(options, outDir, shards, method, seed, prefix, log, ct).ConfigureAwait(false);

        bool resume = File.Exists(Path.Combine(run, Trainer.LastFile)) && File.Exists(Path.Combine(run, TrainState.FileName));
        if (!resume && Directory.Exists(run))
        {
            WriteOrExplain(outDir, () => Directory.Delete(run, recursive: true));
        }

        log?.Invoke($"{prefix}: training {options.Architecture.ToString().ToLowerInvariant()} for {options.Epochs} epoch(s) into {run}{(resume ? " (resuming)" : "")}");
        TrainResult result;
        try
        {
            result = await new Trainer(_decoder).RunAsync(TrainOptionsFor(options, shards, run, seed, resume), validation, new EpochLog(prefix, log), ct).ConfigureAwait(false);
        }
        catch (ZetaPrepException e)
        {
            throw InCompareTerms(method, seed, "training into", run, options, e);
        }

        return Summarize(method, seed, [.. result.Epochs.Where(e => e.Epoch <= options.Epochs)], reused: false);
    }

    private async Task GenerateAsync(ComparisonOptions options, string outDir, string shards, string method, int seed, string prefix, Action<string>? log, CancellationToken ct)
    {
        var manifest = Path.Combine(shards, GenerationManifest.FileName);
        if (!File.Exists(manifest) && Directory.Exists(shards))
        {
            WriteOrExplain(outDir, () => Directory.Delete(shards, recursive: true));
        }

        log?.Invoke($"{prefix}: generating shards into {shards}");
        var generator = new DatasetGenerator(new ImageFolderSource(options.InputDirectory), _decoder);
        try
        {
            await generator.RunAsync(GenerateOptionsFor(options, shards, method, seed, resume: File.Exists(manifest)), progress: null, ct).ConfigureAwait(false);
        }
        catch (ZetaPrepException e)
        {
            throw InCompareTerms(method, seed, "generating into", shards, options, e);
        }
    }

    private static bool IsComplete(string manifestPath)
    {
        try
        {
            return File.Exists(manifestPath) && GenerationManifest.Read(manifestPath).Complete;
        }
        catch (ZetaPrepException)
        {
            return false; // unreadable: CheckExistingRunsAsync has refused it already, so it is not there
        }
    }

    /// <summary>
    /// generate's options for one (method, seed). --n and --gamma only change the methods with ζ weights; the others are
    /// generated (and recorded) with generate's defaults, so their shards are the same, and reused, whatever --n/--gamma.
    /// </summary>
    private static GenerateOptions GenerateOptionsFor(ComparisonOptions options, string shards, string method, int seed, bool resume) => new()
    {
        OutputDirectory = shards,
        Plan = new PlanOptions(
            ComparisonOptions.UsesZeta(method) ? options.N : ComparisonOptions.DefaultN,
            ComparisonOptions.UsesZeta(method) ? options.Gamma : ComparisonOptions.DefaultGamma,
            GenerateBatchSize, passes: 1, seed: unchecked((ulong)seed))
        {
            Method = MixMethodOptions.Parse(method),
            ImageSize = options.Size,
        },
        Size = options.Size,
        Threads = options.Threads,
        Device = options.Device,
        Resume = resume,
        CommandLine = $"zetaprep compare (method {method}, seed {seed})",
    };

    private static TrainOptions TrainOptionsFor(ComparisonOptions options, string shards, string run, int seed, bool resume) => new()
    {
        DataDirectories = [shards],
        OutputDirectory = run,
        Architecture = options.Architecture,
        Epochs = options.Epochs,
        BatchSize = options.BatchSize,
        Seed = unchecked((ulong)seed),
        Device = options.Device,
        Threads = options.Threads,
        Resume = resume,
    };

    /// <summary>
    /// Before any work, refuses an --out whose shards or runs were made with other settings than this comparison's,
    /// naming the directory and what differs: reusing them would put old numbers under the new settings' heading, and
    /// deleting them would silently throw away finished training, so the user picks another --out (or the old settings).
    /// </summary>
    private static async Task CheckExistingRunsAsync(ComparisonOptions options, IValidationSource validation, string outDir, List<string> methods, Lazy<Task<InputInfo>> input, CancellationToken ct)
    {
        ValidationSet? valSet = null;
        var otherEpochs = new List<(string Run, int Epochs)>();
        foreach (var method in methods)
        {
            for (int seed = 0; seed < options.Seeds; seed++)
            {
                var shards = ShardDirectory(outDir, method, seed);
                var run = RunDirectory(outDir, method, seed);
                var manifestPath = Path.Combine(shards, GenerationManifest.FileName);
                GenerationManifest? manifest = null;
                if (File.Exists(manifestPath))
                {
                    manifest = Explained(method, seed, "checking", shards, options, () => GenerationManifest.Read(manifestPath));
                    var differences = manifest.Options.ByteAffectingDifferences(
                        DatasetGenerator.RecordedOptions(GenerateOptionsFor(options, shards, method, seed, resume: true), options.InputDirectory)).ToList();
                    if (!ComparisonOptions.UsesZeta(method))
                    {
                        // Without ζ weights --n and --gamma change no byte (shards made before compare normalised them record any value).
                        differences.RemoveAll(d => d.StartsWith("--n ", StringComparison.Ordinal) || d.StartsWith("--gamma ", StringComparison.Ordinal));
                    }

                    if (!RunConfig.SamePath(manifest.Options.Input, options.InputDirectory))
                    {
                        differences.Insert(0, $"--in differs (manifest {manifest.Options.Input}, now {options.InputDirectory})");
                    }

                    Refuse(outDir, shards, "generated", differences);
                    RefuseChangedInput(outDir, shards, options, manifest.Input.Count, manifest.Input.Fingerprint, await input.Value.ConfigureAwait(false));
                }

                var configPath = Path.Combine(run, RunConfig.FileName);
                if (!File.Exists(configPath))
                {
                    if (File.Exists(Path.Combine(run, Trainer.MetricsFile)))
                    {
                        throw ZetaPrepException.Usage($"compare --out {outDir}: {Path.GetRelativePath(outDir, run)} holds metrics but no {RunConfig.FileName}, so its settings are unknown; use another --out.");
                    }

                    continue;
                }

                var recorded = Explained(method, seed, "checking", run, options, () => RunConfig.Read(configPath));
                if (recorded.Data.Count == 1 && recorded.Data[0].InputFingerprint is { } trainedOn)
                {
                    // The run read shards made from the input with this fingerprint (even when those shards are gone now).
                    var current = await input.Value.ConfigureAwait(false);
                    if (trainedOn != current.Fingerprint)
                    {
                        RefuseChangedInput(outDir, run, options, null, trainedOn, current);
                    }
                }

                // The shards as they are now (the run must have read these very bytes); unfinished ones are checked when generation resumes.
                IReadOnlyList<ShardSourceInfo> data = recorded.Data;
                if (manifest is { Complete: true })
                {
                    ShardDirectory opened;
                    try
                    {
                        opened = await Training.ShardDirectory.OpenAsync(shards, "--out", ct).ConfigureAwait(false);
                    }
                    catch (ZetaPrepException e)
                    {
                        throw InCompareTerms(method, seed, "checking", shards, options, e);
                    }

                    data = [opened.Info];
                }

                valSet ??= await ValidationSet.LoadAsync(validation, options.Size, ct).ConfigureAwait(false);
                var now = Trainer.BuildConfig(TrainOptionsFor(options, shards, run, seed, resume: true), recorded.Classes, options.Size, recorded.Device, valSet.Description, valSet.Count, []) with
                {
                    Data = data,
                };
                var runDifferences = recorded.ResumeDifferences(now).ToList();
                Refuse(outDir, run, "trained", runDifferences);
                if (recorded.Epochs != options.Epochs)
                {
                    otherEpochs.Add((Path.GetRelativePath(outDir, run), recorded.Epochs));
                }
            }
        }

        if (otherEpochs.Count > 0)
        {
            // The cosine schedule spans all epochs: epoch E of a longer run is not the end of an E-epoch run, and a run
            // continued to more epochs trained its first ones on the shorter run's schedule (a warm restart), so it is no
            // N-epoch run either. Both would go under the "N epoch(s)" heading, so both are refused.
            var listed = string.Join(", ", otherEpochs.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Run} ({r.Epochs})")));
            var was = otherEpochs.Select(r => r.Epochs).Distinct().ToList();
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"compare --out {outDir}: --epochs {options.Epochs}, but {(otherEpochs.Count == 1 ? "run" : "runs")} {listed} {(otherEpochs.Count == 1 ? "was" : "were")} trained for {string.Join(" or ", was)} epoch(s) ({(was.Max() > options.Epochs ? "stopping one early is not the end of a shorter run" : "continuing one would keep its first epochs' learning-rate schedule")}); choose another --out for --epochs {options.Epochs} (or rerun with --epochs {string.Join(" or ", was)})."));
        }
    }

    /// <summary>
    /// Refuses shards or a run made from other training images than --in holds now (images added, removed, edited or
    /// relabelled): the path alone cannot tell, the input fingerprint (as generate records it) can.
    /// </summary>
    private static void RefuseChangedInput(string outDir, string dir, ComparisonOptions options, int? madeFromCount, string madeFrom, InputInfo now)
    {
        if (madeFrom == now.Fingerprint && (madeFromCount is null || madeFromCount == now.Count))
        {
            return;
        }

        var then = madeFromCount is { } n ? string.Create(CultureInfo.InvariantCulture, $"{n} images, fingerprint {Short(madeFrom)}") : $"fingerprint {Short(madeFrom)}";
        throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
            $"compare --out {outDir}: {Path.GetRelativePath(outDir, dir)} was made from other training images than --in {options.InputDirectory} holds now ({then}; now {now.Count} images, fingerprint {Short(now.Fingerprint)}), so its results would describe the old images: use another --out, or delete {Path.Combine(outDir, "shards")} and {Path.Combine(outDir, "runs")} to redo every run."));
    }

    private static string Short(string fingerprint) => fingerprint[..Math.Min(12, fingerprint.Length)] + "…";

    /// <summary>The input as generate fingerprints it (<see cref="InputFingerprint"/>): every file's size and SHA-256, and the labels.</summary>
    private static async Task<InputInfo> FingerprintAsync(ImageFolderSource source, SourceListing listing, ComparisonOptions options, CancellationToken ct)
    {
        var sizes = new long[listing.Items.Count];
        var hashes = new byte[listing.Items.Count][];
        await Parallel.ForAsync(0, listing.Items.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = ct }, async (i, token) =>
        {
            using var bytes = await source.ReadPooledAsync(listing.Items[i], token).ConfigureAwait(false);
            sizes[i] = bytes.Length;
            hashes[i] = System.Security.Cryptography.SHA256.HashData(bytes.Span);
        }).ConfigureAwait(false);
        return new InputInfo(source.Description, listing.Items.Count, listing.Fingerprint(sizes, hashes));
    }

    /// <summary>
    /// The intrinsic-dimension check samples min(--max-samples, rows) images of each seed-0 shard directory and needs more
    /// than k of them. Rows follow from the input count, so a too-large --k is refused here, before any work; the default
    /// k (128) is lowered to what the sample allows, with a note, so a small input still gets its comparison.
    /// </summary>
    private static ComparisonOptions ResolveK(ComparisonOptions options, int inputs, List<string> methods, Action<string>? log)
    {
        var points = long.MaxValue;
        foreach (var method in methods)
        {
            var plan = GenerateOptionsFor(options, "", method, 0, resume: false).Plan;
            points = Math.Min(points, Math.Min(options.MaxSamples, MixPlan.Create(inputs, plan with { ImageSize = options.Size }).TotalRows));
        }

        if (points < 3)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--in {options.InputDirectory}: {inputs} image(s) give {points} point(s) for the intrinsic-dimension check, which needs at least 3; give more training images."));
        }

        // The D_int step holds the sampled pixels in one array: refused here rather than after all the training.
        IntrinsicDimensionOptions.CheckFits(points, options.Size, options.MaxSamples);
        if (options.K is { } k)
        {
            if (k >= points)
            {
                throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                    $"--k {k}: the intrinsic-dimension check samples {points} image(s) of each method's shards (--in {options.InputDirectory} has {inputs} images, --max-samples {options.MaxSamples}) and needs more than k: give --k {points - 1} or less, or leave --k out."));
            }

            return options;
        }

        var resolved = (int)Math.Min(ComparisonOptions.DefaultK, points - 1);
        if (resolved < ComparisonOptions.DefaultK)
        {
            log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"k = {resolved} for the intrinsic-dimension check (not the default {ComparisonOptions.DefaultK}): the shards give {points} sampled images and it needs more than k"));
        }

        return options with { K = resolved };
    }

    /// <summary>Runs a change to --out, turning an I/O failure (read-only, disk full, a file in the way) into one line naming --out.</summary>
    private static void WriteOrExplain(string outDir, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"compare --out {outDir}: cannot write ({e.Message.TrimEnd('.')}); finished runs in it are kept: free space or fix permissions (or choose another --out), then rerun the same compare.", e);
        }
    }

    /// <summary>
    /// Refuses an --out that holds anything but what a compare writes there (shards/, runs/, results.*; hidden files such as
    /// .DS_Store aside): a generate output or a training run given as --out had 9 runs and results written into it (QA),
    /// where train refuses an --out holding other files.
    /// </summary>
    private static void RefuseForeignOut(string outDir)
    {
        if (!Directory.Exists(outDir))
        {
            return;
        }
        string[] own = ["shards", "runs", MarkdownFile, JsonFile, ChartFile];
        var foreign = Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName)
            .Where(n => !n!.StartsWith('.') && !own.Contains(n, StringComparer.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (foreign is not null)
        {
            throw ZetaPrepException.Usage($"compare --out {outDir}: holds {foreign}, which compare does not write (it keeps shards/, runs/ and results.* there); choose a new or empty directory, or the --out of an earlier compare to reuse its runs.");
        }
    }

    /// <summary>Refuses an --out that is --in or lies inside it, before anything is created there.</summary>
    private static void RefuseOutInsideIn(string outDir, string inputDirectory)
    {
        var input = Path.TrimEndingDirectorySeparator(Path.GetFullPath(inputDirectory));
        var output = Path.TrimEndingDirectorySeparator(outDir);
        if (output == input || output.StartsWith(input + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw ZetaPrepException.Usage($"compare --out {outDir}: is {(output == input ? "" : "inside ")}--in {input}, so the shards and runs would be read as training images by later runs; choose an --out outside --in.");
        }
    }

    /// <summary>
    /// Removes the directories this compare created (<paramref name="created"/>: --out, shards/, runs/ that did not exist
    /// before), unless a run in --out has saved an epoch by now: a failed compare leaves nothing new behind, finished work stays.
    /// </summary>
    private static void RemoveCreated(string outDir, List<string> created)
    {
        var runs = Path.Combine(outDir, "runs");
        if (Directory.Exists(runs) && Directory.EnumerateDirectories(runs).Any(r => File.Exists(Path.Combine(r, TrainState.FileName))))
        {
            return;
        }

        foreach (var dir in created)
        {
            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }

                if (dir == outDir)
                {
                    return; // shards/ and runs/ went with it
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return; // best effort: the error being reported matters more
            }
        }
    }

    /// <summary>Runs a read of a run's or shards' file, putting its failure in compare's terms (see <see cref="InCompareTerms"/>).</summary>
    private static T Explained<T>(string method, int seed, string doing, string dir, ComparisonOptions options, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ZetaPrepException e)
        {
            throw InCompareTerms(method, seed, doing, dir, options, e);
        }
    }

    /// <summary>
    /// Turns a generate or train error into one line in compare's terms: generate's and train's advice names their options
    /// (--on-error, --resume, --lr, 'zetaprep generate ... --resume') and directories (--out OUT/shards/…), which compare
    /// has not, so only the verdict (the text before the first top-level "; ") is kept, with compare's way on. The exit code stays.
    /// </summary>
    internal static ZetaPrepException InCompareTerms(string method, int seed, string doing, string dir, ComparisonOptions options, ZetaPrepException inner)
    {
        var verdict = Verdict(inner.Message, dir);
        var input = Path.GetFullPath(options.InputDirectory);
        string wayOn;
        if (verdict.StartsWith("training diverged", StringComparison.Ordinal))
        {
            wayOn = string.Create(CultureInfo.InvariantCulture,
                $"its saved epochs (if any) stay in {dir}: compare another --out with a larger --batch-size (now {options.BatchSize}), which steadies the fixed learning rate of 0.1");
        }
        else if (verdict.Contains("is inside --in", StringComparison.Ordinal))
        {
            wayOn = "choose a compare --out outside --in";
        }
        else if (verdict.Contains("cannot write", StringComparison.Ordinal))
        {
            wayOn = "free space or fix permissions (or choose another --out), then rerun the same compare (finished runs are kept)";
        }
        else if (Mentions(inner.Message, dir))
        {
            // A damaged file of compare's own making (a shard, last.pt, config.json): making that directory again is the way out.
            wayOn = $"delete {dir} and rerun the same compare (it makes that directory again; finished runs are kept)";
        }
        else if (Mentions(inner.Message, input))
        {
            wayOn = "remove or replace that file in --in and rerun the same compare (finished runs are kept)";
        }
        else
        {
            wayOn = "fix that and rerun the same compare (finished runs are kept)";
        }

        return new ZetaPrepException(string.Create(CultureInfo.InvariantCulture, $"compare: {method} seed {seed}: {doing} {dir}: {verdict}; {wayOn}."), inner.ExitCode, inner);
    }

    /// <summary>True when <paramref name="message"/> names <paramref name="path"/> or a path under it (not merely a path that starts with the same characters).</summary>
    private static bool Mentions(string message, string path)
    {
        for (int at = message.IndexOf(path, StringComparison.Ordinal); at >= 0; at = message.IndexOf(path, at + 1, StringComparison.Ordinal))
        {
            int after = at + path.Length;
            if (after == message.Length || message[after] is '/' or ':' or ' ' or ',' or ')' or ';' or '.' or '\\' || message[after] == Path.DirectorySeparatorChar)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A message's text before its first "; " outside parentheses and without its final full stop. A leading option name
    /// (--out, --data, --resume: not compare's) goes; so does the path after it when it is <paramref name="dir"/>, which the context names.
    /// </summary>
    internal static string Verdict(string message, string dir)
    {
        int depth = 0;
        int end = message.Length;
        for (int i = 0; i < message.Length - 1; i++)
        {
            char c = message[i];
            if (c is '(' or '[')
            {
                depth++;
            }
            else if (c is ')' or ']')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (c == ';' && message[i + 1] == ' ' && depth == 0)
            {
                end = i;
                break;
            }
        }

        var verdict = message[..end].TrimEnd().TrimEnd('.');
        var prefix = System.Text.RegularExpressions.Regex.Match(verdict, "^--(?:out|data|resume)(?: ([^:]*))?: ");
        if (!prefix.Success)
        {
            return verdict;
        }

        var path = prefix.Groups[1].Value;
        return path.Length == 0 || path == dir ? verdict[prefix.Length..] : verdict[(prefix.Groups[1].Index)..];
    }

    private static void Refuse(string outDir, string dir, string made, List<string> differences)
    {
        if (differences.Count > 0)
        {
            throw ZetaPrepException.Usage($"compare --out {outDir}: {Path.GetRelativePath(outDir, dir)} was {made} with other settings: {string.Join("; ", differences)}; use another --out for these settings (or rerun with the ones it was made with).");
        }
    }

    private static string RunName(string method, int seed) =>
        string.Create(CultureInfo.InvariantCulture, $"{method.Replace('+', '_')}-s{seed}");

    private static List<EpochMetrics> ReadMetrics(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            return [.. File.ReadLines(path).Where(l => l.Length > 0).Select(EpochMetrics.FromJsonLine)];
        }
        catch (System.Text.Json.JsonException)
        {
            return []; // A line cut short by an interrupted run: train it again (or resume from last.pt).
        }
    }

    private static ComparisonRun Summarize(string method, int seed, List<EpochMetrics> epochs, bool reused)
    {
        if (epochs.Count == 0)
        {
            throw new ZetaPrepException($"compare: run {method} seed {seed} recorded no epoch.");
        }

        var best = epochs.OrderByDescending(e => e.ValAccuracy).ThenBy(e => e.Epoch).First();
        return new ComparisonRun(method, seed, best.Epoch, best.ValAccuracy, best.ValF1Micro, best.ValF1Macro, epochs.Average(e => e.ImagesPerS), reused);
    }

    /// <summary>Forwards each finished epoch as one log line.</summary>
    private sealed class EpochLog(string prefix, Action<string>? log) : ITrainProgress
    {
        public void Step(int epoch, int step, int stepsPerEpoch, double loss, double imagesPerSecond)
        {
        }

        public void Epoch(EpochMetrics metrics, int epochs) =>
            log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"{prefix}: epoch {metrics.Epoch}/{epochs} train loss {metrics.TrainLoss:F4}, val accuracy {metrics.ValAccuracy:F4}, macro-F1 {metrics.ValF1Macro:F4}, {metrics.ImagesPerS:F1} images/s"));
    }
}
