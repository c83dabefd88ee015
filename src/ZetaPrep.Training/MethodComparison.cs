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

    /// <summary>Inputs per generation batch (outputs mix samples of one batch).</summary>
    private const int GenerateBatchSize = 64;

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
        Directory.CreateDirectory(outDir);
        var methods = options.Methods.Select(m => m.Trim().ToLowerInvariant()).ToList();
        await CheckExistingRunsAsync(options, validation, outDir, methods, cancellationToken).ConfigureAwait(false);
        var runs = new List<ComparisonRun>();
        int total = methods.Count * options.Seeds;
        int index = 0;
        foreach (var method in methods)
        {
            for (int seed = 0; seed < options.Seeds; seed++)
            {
                index++;
                var prefix = string.Create(CultureInfo.InvariantCulture, $"[{index}/{total}] {method} seed {seed}");
                runs.Add(await RunOneAsync(options, validation, outDir, method, seed, prefix, log, cancellationToken).ConfigureAwait(false));
            }
        }

        var summaries = new List<MethodSummary>();
        foreach (var method in methods)
        {
            log?.Invoke($"{method}: intrinsic dimension of seed-0 shards (k = {options.K}, at most {options.MaxSamples} images)");
            var dint = await IntrinsicDimension.AnalyzeAsync(ShardDirectory(outDir, method, 0), new IntrinsicDimensionOptions
            {
                K = options.K,
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
        ComparisonReport.Write(result, options);
        return result;
    }

    private async Task<ComparisonRun> RunOneAsync(ComparisonOptions options, IValidationSource validation, string outDir, string method, int seed, string prefix, Action<string>? log, CancellationToken ct)
    {
        var shards = ShardDirectory(outDir, method, seed);
        var run = RunDirectory(outDir, method, seed);
        var metricsPath = Path.Combine(run, Trainer.MetricsFile);
        var done = ReadMetrics(metricsPath);
        // CheckExistingRunsAsync has made sure that a run recorded here was made with this comparison's settings.
        if (done.Any(e => e.Epoch == options.Epochs))
        {
            log?.Invoke($"{prefix}: complete run in {run}, reusing its metrics");
            return Summarize(method, seed, done.Where(e => e.Epoch <= options.Epochs).ToList(), reused: true);
        }

        var manifest = Path.Combine(shards, GenerationManifest.FileName);
        if (!File.Exists(manifest) && Directory.Exists(shards))
        {
            Directory.Delete(shards, recursive: true);
        }

        log?.Invoke($"{prefix}: generating shards into {shards}");
        var generator = new DatasetGenerator(new ImageFolderSource(options.InputDirectory), _decoder);
        await generator.RunAsync(GenerateOptionsFor(options, shards, method, seed, resume: File.Exists(manifest)), progress: null, ct).ConfigureAwait(false);

        bool resume = File.Exists(Path.Combine(run, Trainer.LastFile)) && File.Exists(Path.Combine(run, TrainState.FileName));
        if (!resume && Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }

        log?.Invoke($"{prefix}: training {options.Architecture.ToString().ToLowerInvariant()} for {options.Epochs} epoch(s) into {run}{(resume ? " (resuming)" : "")}");
        var result = await new Trainer(_decoder).RunAsync(TrainOptionsFor(options, shards, run, seed, resume), validation, new EpochLog(prefix, log), ct).ConfigureAwait(false);
        return Summarize(method, seed, [.. result.Epochs.Where(e => e.Epoch <= options.Epochs)], reused: false);
    }

    private static GenerateOptions GenerateOptionsFor(ComparisonOptions options, string shards, string method, int seed, bool resume) => new()
    {
        OutputDirectory = shards,
        Plan = new PlanOptions(options.N, options.Gamma, GenerateBatchSize, passes: 1, seed: unchecked((ulong)seed))
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
    private static async Task CheckExistingRunsAsync(ComparisonOptions options, IValidationSource validation, string outDir, List<string> methods, CancellationToken ct)
    {
        ValidationSet? valSet = null;
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
                    manifest = GenerationManifest.Read(manifestPath);
                    var differences = manifest.Options.ByteAffectingDifferences(
                        DatasetGenerator.RecordedOptions(GenerateOptionsFor(options, shards, method, seed, resume: true), options.InputDirectory)).ToList();
                    if (!RunConfig.SamePath(manifest.Options.Input, options.InputDirectory))
                    {
                        differences.Insert(0, $"--in differs (manifest {manifest.Options.Input}, now {options.InputDirectory})");
                    }

                    Refuse(outDir, shards, "generated", differences);
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

                var recorded = RunConfig.Read(configPath);
                // The shards as they are now (the run must have read these very bytes); unfinished ones are checked when generation resumes.
                IReadOnlyList<ShardSourceInfo> data = recorded.Data;
                if (manifest is { Complete: true })
                {
                    var opened = await Training.ShardDirectory.OpenAsync(shards, "--out", ct).ConfigureAwait(false);
                    data = [opened.Info];
                }

                valSet ??= await ValidationSet.LoadAsync(validation, options.Size, ct).ConfigureAwait(false);
                var now = Trainer.BuildConfig(TrainOptionsFor(options, shards, run, seed, resume: true), recorded.Classes, options.Size, recorded.Device, valSet.Description, valSet.Count, []) with
                {
                    Data = data,
                };
                var runDifferences = recorded.ResumeDifferences(now).ToList();
                if (recorded.Epochs > options.Epochs)
                {
                    // The cosine schedule spans all epochs: epoch E of a longer run is not the end of an E-epoch run.
                    runDifferences.Insert(0, string.Create(CultureInfo.InvariantCulture, $"--epochs differs (run {recorded.Epochs}, now {options.Epochs})"));
                }

                Refuse(outDir, run, "trained", runDifferences);
            }
        }
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
