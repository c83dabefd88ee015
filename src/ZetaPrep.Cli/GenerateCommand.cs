using System.CommandLine;
using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Shards;
using ZetaPrep.Sources;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep generate`: the definition (options with defaults) and the handler.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = new Option<string>("--in") { Description = "Input: an ImageFolder directory (one sub-folder per class), a folder of official downloads (zips + CSVs), a preset name (isic2016…isic2020; see `zetaprep datasets`), or with --labels a folder/zip of images.", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Where preset folders live (--in isic2017 reads DATA-DIR/isic2017); default ${SourceResolver.DataEnvironmentVariable}, else ./data." };
        var split = new Option<string>("--split") { Description = "Preset split: train, validation or test.", DefaultValueFactory = _ => "train" };
        split.AcceptOnlyFromAmong([.. SourceResolver.Splits]);
        var labels = new Option<string?>("--labels") { Description = "A label CSV for a custom dataset (--in is then a folder or .zip of images)." };
        var idColumn = new Option<string?>("--id-column") { Description = "With --labels: the column holding image ids (file names, with or without extension)." };
        var labelColumn = new Option<string?>("--label-column") { Description = "With --labels: a class-name (or index) column; without it every other column is a one-hot/probability column." };
        var classDepth = new Option<int>("--class-depth") { Description = "ImageFolder: class folders sit this many levels below --in.", DefaultValueFactory = _ => 1 }.Within(1, 16);
        var exclude = new Option<string[]>("--exclude") { Description = "Skip files whose name or relative path matches this glob (repeatable), e.g. '*mask*'.", AllowMultipleArgumentsPerToken = false };
        var excludeDuplicates = new Option<bool>("--exclude-duplicates") { Description = "isic2020: drop the second image of each pair in ISIC_2020_Training_Duplicates.csv." };
        var output = new Option<string>("--out") { Description = "Output directory (new or empty) for the shards, manifest.json and README.md (dataset card).", Required = true };
        var n = new Option<string>("--n") { Description = "Samples mixed per output: an integer ≥ 2, or 'batch' (the authors' B×B formulation).", DefaultValueFactory = _ => "8" };
        var gamma = new Option<string>("--gamma") { Description = "ζ exponent γ > 0, or a range LO:HI drawn per output ('min' = γ_min ≈ 1.72865, e.g. min:4).", DefaultValueFactory = _ => "2.8" };
        var method = new Option<string>("--method") { Description = "zeta, mixup, cutmix, cutmix+zeta (CutMix on ζ-mixed outputs), none (resized originals, the ERM baseline), or zeta,cutmix (per output, --switch-prob chooses).", DefaultValueFactory = _ => "zeta" };
        var alpha = new Option<double?>("--alpha") { Description = "Beta(α, α) for mixup's λ and CutMix's box (default 0.2 for mixup, 1.0 for cutmix)." }.Within("above 0");
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "ε in [0, 1): y ← y(1−ε) + ε/K on every source label before mixing (as timm).", DefaultValueFactory = _ => 0.0 }.Within("from 0 up to but not including 1");
        var prob = new Option<double>("--prob") { Description = "Fraction of outputs that are mixed, per output from the seed; the rest are resized originals (column original = true).", DefaultValueFactory = _ => 1.0 }.Within(0.0, 1.0);
        var switchProb = new Option<double?>("--switch-prob") { Description = "With --method zeta,cutmix: probability of CutMix instead of ζ per output (default 0.5)." }.Within(0.0, 1.0);
        var batchSize = new Option<int>("--batch-size") { Description = "Inputs per batch; outputs mix samples of one batch (≥ --n).", DefaultValueFactory = _ => 64 }.Within(2, int.MaxValue);
        var passes = new Option<int>("--passes") { Description = "Passes over the input, reshuffled each pass; rows = inputs × passes.", DefaultValueFactory = _ => 1 }.Within(1, int.MaxValue);
        var seed = new Option<ulong>("--seed") { Description = "Random seed: same inputs, options and seed give byte-identical shards.", DefaultValueFactory = _ => 0UL };
        var shardRows = new Option<int>("--shard-rows") { Description = "Rows per shard (whole batches per shard).", DefaultValueFactory = _ => 1000 }.Within(1, int.MaxValue);
        var size = new Option<int>("--size") { Description = "Output images are SIZE×SIZE RGB.", DefaultValueFactory = _ => 224 }.Within(1, 8192);
        var resize = new Option<string>("--resize") { Description = "crop: shorter side to SIZE then centre-crop; pad: longer side to SIZE, black bars; stretch: ignore aspect.", DefaultValueFactory = _ => "crop" };
        resize.AcceptOnlyFromAmong("crop", "pad", "stretch");
        var threads = new Option<int>("--threads") { Description = "Worker threads for listing, validating, decoding and encoding (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount }.Within(1, GenerateOptions.MaxThreads);
        var device = new Option<string>("--device") { Description = "Mixing device: auto (CUDA through the NVIDIA driver when a GPU is present and the run mixes enough to pay for opening it: ~10,000 outputs at 224²), cpu or cuda; both write the same bytes.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var codec = new Option<string>("--codec") { Description = "Image decoder: auto (turbojpeg when libturbojpeg0 is installed, else skia), skia, turbojpeg (system SIMD libjpeg-turbo for JPEG, skia for the rest) or imagesharp. Recorded in the manifest: it decides the pixels.", DefaultValueFactory = _ => "auto" };
        // Checked by ImageCodecs.Parse (not AcceptOnlyFromAmong) so that the error names --codec.
        codec.CompletionSources.Add([.. ImageCodecs.Names]);
        var pngLevel = new Option<int>("--png-level") { Description = "zlib level of the output PNGs, 0 (stored) to 9 (smallest, slowest); 1 is the fastest.", DefaultValueFactory = _ => PngEncoder.DefaultLevel }.Within(0, PngEncoder.MaxLevel);
        var decodeMemory = new Option<string>("--decode-memory") { Description = "What large PNG decodes (each ≥ 64 MiB: over ~8 megapixels) may hold at once over all threads, e.g. 1GiB, 4GiB; the others wait their turn. auto: 256MiB per thread, at least 1GiB, at most a quarter of the memory.", DefaultValueFactory = _ => "auto" };
        var maxPixels = new Option<long>("--max-pixels") { Description = "Refuse inputs whose header claims more pixels than this (decompression-bomb guard).", DefaultValueFactory = _ => 100_000_000L }.Within(1L, long.MaxValue);
        var onError = new Option<string>("--on-error") { Description = "A bad input (unreadable, truncated, over --max-pixels): fail stops before any shard is written; skip leaves it out and lists it in manifest.json.", DefaultValueFactory = _ => "fail" };
        onError.AcceptOnlyFromAmong("fail", "skip");
        var format = new Option<string>("--format") { Description = "Shard format: parquet (data/*.parquet, HF hub layout), webdataset (shard-NNNNNN.tar + shardindex.json) or folder (images/*.png + labels.parquet).", DefaultValueFactory = _ => "parquet" };
        format.AcceptOnlyFromAmong([.. ShardFormats.Names]);
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing ZetaPrep output in --out." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr." };
        var profile = new Option<bool>("--profile") { Description = "Print per-stage time (validate, read, decode, mix, encode, write), queue occupancy, where batches mixed (GPU or CPU), the batch buffers, the wall clock in phases, the bounding stage, CPU, peak RSS, GC counts and heap on stderr at the end." };
        var shardBytes = new Option<string>("--shard-bytes") { Description = "Instead of --shard-rows: raw pixel bytes (SIZE²×3 per row) per shard, e.g. 256MB, 1GiB; rows = max(1, SIZE ÷ (3·S²)), rounded to whole batches like --shard-rows (so a shard holds at least one batch, whatever the bound)." };
        var keepOriginals = new Option<bool>("--keep-originals") { Description = "Also write each resized original (column original = true, its own label, one-hot or as --label-smoothing smooths it, γ = 0) before its batch's mixed rows." };
        var resume = new Option<bool>("--resume") { Description = "Finish an interrupted run in --out: keep shards whose size and SHA-256 match its manifest, write the rest." };
        var validateOnly = new Option<bool>("--validate-only") { Description = "Only read, check and fingerprint every input (the validation pass) and leave the verdicts in --out, so that the runs that follow there with --resume (a job array's workers) skip the pass; writes no shard." };
        var worker = new Option<string>("--worker") { Description = "I/W: write only shards I, I+W, I+2W, … and OUT/manifest.worker-I-of-W.json (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); then zetaprep merge OUT." };
        var workers = new Option<int?>("--workers") { Description = "Worker count W when the index comes from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (else SLURM_ARRAY_TASK_COUNT or ZETAPREP_WORKERS)." }.Within(1, int.MaxValue);

        var command = new Command("generate", "Mix images (ζ-mixup, or the mixup, CutMix and unmixed baselines) and write shards — Parquet (HuggingFace layout), WebDataset tars or an image folder — plus manifest.json and a dataset card.")
        {
            input, dataDir, split, labels, idColumn, labelColumn, classDepth, exclude, excludeDuplicates, output, n, gamma, method, alpha, labelSmoothing, prob, switchProb, batchSize, passes, seed, shardRows, shardBytes, size, resize, threads, device, codec, pngLevel, maxPixels, decodeMemory, onError, format, overwrite, quiet,
            keepOriginals, resume, worker, workers, profile, validateOnly,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(resume) && parse.GetValue(overwrite))
            {
                throw ZetaPrepException.Usage("--resume and --overwrite both given: --resume finishes the output in --out, keeping its shards; --overwrite deletes them and starts over; choose one.");
            }
            long? bytesPerShard = null;
            var rowsPerShard = parse.GetValue(shardRows);
            if (parse.GetValue(shardBytes) is { } bytesText)
            {
                if (parse.GetResult(shardRows) is { Implicit: false })
                {
                    throw ZetaPrepException.Usage("--shard-rows and --shard-bytes both given; choose one way to size shards.");
                }
                bytesPerShard = ShardSizing.ParseBytes(bytesText);
                var s = parse.GetValue(size);
                rowsPerShard = s is >= 1 and <= 8192 ? ShardSizing.RowsFor(bytesPerShard.Value, s) : rowsPerShard;
            }
            var mixMethod = MixMethodOptions.Parse(parse.GetValue(method)!, parse.GetValue(alpha), parse.GetValue(labelSmoothing), parse.GetValue(prob), parse.GetValue(switchProb));
            RefuseIgnoredMethodOptions(parse, mixMethod, n, gamma, prob);
            var plan = new PlanOptions(
                MixCount.Parse(parse.GetValue(n)!),
                GammaSpec.Parse(parse.GetValue(gamma)!),
                parse.GetValue(batchSize),
                parse.GetValue(passes),
                parse.GetValue(seed),
                rowsPerShard,
                parse.GetValue(keepOriginals))
            {
                Method = mixMethod,
            };
            var codecChoice = ImageCodecs.Parse(parse.GetValue(codec)!);
            var options = new GenerateOptions
            {
                OutputDirectory = parse.GetValue(output)!,
                Plan = plan,
                Size = parse.GetValue(size),
                Resize = Enum.Parse<ResizeMode>(parse.GetValue(resize)!, ignoreCase: true),
                Threads = parse.GetValue(threads),
                Device = Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
                MaxPixels = parse.GetValue(maxPixels),
                DecodeMemory = string.Equals(parse.GetValue(decodeMemory), "auto", StringComparison.OrdinalIgnoreCase) ? null : ShardSizing.ParseBytes(parse.GetValue(decodeMemory)!, "--decode-memory", min: 0),
                PngLevel = parse.GetValue(pngLevel),
                OnError = Enum.Parse<OnError>(parse.GetValue(onError)!, ignoreCase: true),
                Overwrite = parse.GetValue(overwrite),
                Resume = parse.GetValue(resume),
                Worker = WorkerSpec.Resolve(parse.GetValue(worker), parse.GetValue(workers), Environment.GetEnvironmentVariable),
                ShardBytes = bytesPerShard,
                Format = ShardFormats.Get(parse.GetValue(format)!).Kind,
                CommandLine = RecordedCommand(parse),
            };
            options.Validate();
            // Resolved after the options are checked, so a bad option is reported before a missing library.
            options = options with { Codec = ImageCodecs.Name(ImageCodecs.Resolve(codecChoice)) };
            var source = SourceResolver.Resolve(new SourceOptions
            {
                Input = parse.GetValue(input)!,
                DataDirectory = parse.GetValue(dataDir),
                Split = parse.GetValue(split)!,
                Labels = parse.GetValue(labels),
                IdColumn = parse.GetValue(idColumn),
                LabelColumn = parse.GetValue(labelColumn),
                ClassDepth = parse.GetValue(classDepth),
                Exclude = parse.GetValue(exclude) ?? [],
                ExcludeDuplicates = parse.GetValue(excludeDuplicates),
                Threads = options.Threads,
            });
            using var sourceLifetime = source as IDisposable;
            // Only a preset (or a folder of official downloads) has splits; an ImageFolder or a --labels input is one set.
            if (parse.GetResult(split) is { Implicit: false } && (source is ImageFolderSource || parse.GetValue(labels) is not null))
            {
                throw ZetaPrepException.Usage($"--split: only applies to a preset or a folder of official downloads; --in {parse.GetValue(input)} is {(source is ImageFolderSource ? "an ImageFolder" : "a --labels input")}, one set of images: drop --split (give each split its own --in).");
            }
            var generator = new DatasetGenerator(source, ImageCodecs.Create(codecChoice, new ImageLimits(options.MaxPixels)));
            using var reporter = new ProgressReporter(stderr, enabled: !parse.GetValue(quiet) && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error));
            // Process start → the run's own clock: runtime start-up, JIT and option parsing, which --profile reports apart.
            TimeSpan startup;
            using (var me = System.Diagnostics.Process.GetCurrentProcess())
            {
                startup = DateTime.Now - me.StartTime;
            }
            if (parse.GetValue(validateOnly))
            {
                var v = await generator.ValidateOnlyAsync(options, ct).ConfigureAwait(false);
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"validated {v.Inputs} input(s){(v.Skipped > 0 ? $" ({v.Skipped} bad, to be left out)" : "")}, fingerprint {v.Fingerprint[..12]}…; plan: {v.Rows} rows in {v.Batches} batch(es), {v.Shards} shard(s); verdicts in {v.RecordPath}: runs into that directory with --resume (every worker of a job array) skip the validation pass"))
                    .ConfigureAwait(false);
                return 0;
            }
            GenerationResult result;
            var runStarted = DateTimeOffset.UtcNow;
            try
            {
                result = await generator.RunAsync(options, reporter, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The shard in flight was discarded (its temp file deleted); the manifest lists every finished shard.
                var manifest = Path.Combine(Path.GetFullPath(options.OutputDirectory), options.Worker?.ManifestFileName ?? "manifest.json");
                if (options.Overwrite && !WrittenSince(manifest, runStarted))
                {
                    // Stopped before this run wrote its own manifest (during the validation pass): nothing was replaced, and
                    // a --resume would meet the old output's options.
                    await stderr.WriteLineAsync($"zetaprep: interrupted before anything was replaced; the output in {Path.GetDirectoryName(manifest)} is as it was; to replace it, run again: {CommandLineText(parse.Tokens.Select(t => t.Value))}").ConfigureAwait(false);
                    return CliApp.InterruptedExitCode;
                }
                var state = File.Exists(manifest) ? $"finished shards are listed in {manifest}" : "no shard was written yet";
                await stderr.WriteLineAsync($"zetaprep: interrupted; {state}; resume with: {ResumeCommand(parse)}").ConfigureAwait(false);
                return CliApp.InterruptedExitCode;
            }
            var m = result.Manifest;
            foreach (var note in result.Notes)
            {
                await stderr.WriteLineAsync($"zetaprep: note: {note}").ConfigureAwait(false);
            }
            if (parse.GetValue(profile))
            {
                await stderr.WriteAsync(generator.Times.Format(TimeSpan.FromSeconds(m.WallTimeS))).ConfigureAwait(false);
                using var self = System.Diagnostics.Process.GetCurrentProcess();
                var gc = GC.GetGCMemoryInfo();
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"process start-up before the run {startup.TotalSeconds:F2} s, process CPU {self.TotalProcessorTime.TotalSeconds:F2} s, peak RSS {self.PeakWorkingSet64 / 1048576.0:F0} MiB, GC: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} gen0/1/2 collections, {GC.GetTotalPauseDuration().TotalSeconds:F2} s paused, {GC.GetTotalAllocatedBytes() / 1048576.0:F0} MiB allocated, heap {gc.HeapSizeBytes / 1048576.0:F0} MiB ({gc.FragmentedBytes / 1048576.0:F0} free) of {gc.TotalCommittedBytes / 1048576.0:F0} MiB committed at the last GC"))
                    .ConfigureAwait(false);
            }
            if (result.NothingToDo)
            {
                // The manifest (and its times) is the finished run's: "wrote" and a rate would describe that run, not this one.
                // A worker's is its share of the plan, not the whole output.
                await stdout.WriteLineAsync(m.Worker is { } done
                    ? string.Create(CultureInfo.InvariantCulture, $"nothing to do: worker {done.Index}/{done.Count}'s {m.Shards.Count} of {m.Plan.Shards} shard(s) ({m.Totals.Rows} of {m.Plan.Rows} rows) in {Path.GetDirectoryName(result.ManifestPath)} are complete and intact; manifest: {result.ManifestPath}")
                    : string.Create(CultureInfo.InvariantCulture, $"nothing to do: {Path.GetDirectoryName(result.ManifestPath)} is complete, all {m.Shards.Count} shard(s) ({m.Totals.Rows} rows) intact; manifest: {result.ManifestPath}"))
                    .ConfigureAwait(false);
                return 0;
            }
            var rate = m.WallTimeS > 0 ? m.Totals.Rows / m.WallTimeS : 0;
            // The shards' size on disk: the manifest's bytes are each shard file's, which for the folder format is only
            // its label part (verify checks that); the images it lists count here.
            var outputDirectory = Path.GetDirectoryName(result.ManifestPath)!;
            var shardFormat = ShardFormats.Get(options.Format);
            long storedBytes = 0;
            foreach (var shard in m.Shards)
            {
                storedBytes += await shardFormat.StoredBytesAsync(outputDirectory, shard.File, ct).ConfigureAwait(false);
            }
            var skipped = m.Skipped.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $" (skipped {m.Skipped.Count} bad input(s), listed in {Path.GetFileName(result.ManifestPath)})") : "";
            var made = string.Create(CultureInfo.InvariantCulture,
                $"{m.Input.Count} inputs × {m.Options.Passes} pass(es), {m.Options.MixSummary(RowComposition.Of(m))}");
            // A worker writes its share of the plan: its rows and shards are said against the whole, not as if they were it.
            await stdout.WriteLineAsync(m.Worker is { } w
                ? string.Create(CultureInfo.InvariantCulture, $"wrote {m.Totals.Rows} of {m.Plan.Rows} rows{skipped} (worker {w.Index}/{w.Count}: {m.Shards.Count} of {m.Plan.Shards} shard(s); {made}), {storedBytes / 1048576.0:F1} MiB, to {outputDirectory}")
                : string.Create(CultureInfo.InvariantCulture, $"wrote {m.Totals.Rows} rows{skipped} ({made}) in {m.Shards.Count} shard(s), {storedBytes / 1048576.0:F1} MiB, to {outputDirectory}"))
                .ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{m.WallTimeS:F2} s, {rate:F0} rows/s on {m.Device} with {options.Threads} thread(s); manifest: {result.ManifestPath}"))
                .ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// An option given explicitly that the method would ignore is a usage error, as --alpha is for ζ and --switch-prob is
    /// outside zeta,cutmix: --n and --gamma shape ζ weights only; --method none mixes nothing, so --prob decides nothing.
    /// </summary>
    private static void RefuseIgnoredMethodOptions(ParseResult parse, MixMethodOptions method, Option n, Option gamma, Option prob)
    {
        var usesZeta = method.Method is MixMethod.Zeta or MixMethod.CutMixZeta || method.SwitchToCutMix;
        var why = method.Method switch
        {
            MixMethod.Mixup => "mixes 2 samples with λ ~ Beta(α, α), set by --alpha",
            MixMethod.CutMix => "pastes a box of one other sample, its area set by --alpha",
            _ => "writes the resized originals unmixed",
        };
        foreach (var option in new[] { n, gamma })
        {
            if (!usesZeta && parse.GetResult(option) is { Implicit: false })
            {
                throw ZetaPrepException.Usage($"{option.Name}: only applies to the methods with ζ weights (zeta, cutmix+zeta, zeta,cutmix); --method {method.Name} {why}: drop {option.Name}.");
            }
        }
        if (method.Method == MixMethod.None && parse.GetResult(prob) is { Implicit: false })
        {
            throw ZetaPrepException.Usage($"--prob: --method none {why}, so there is nothing to mix: drop --prob.");
        }
    }

    /// <summary>Whether <paramref name="manifest"/> is this run's: present, readable and started at or after <paramref name="since"/>.</summary>
    private static bool WrittenSince(string manifest, DateTimeOffset since)
    {
        try
        {
            return File.Exists(manifest) && GenerationManifest.Read(manifest).StartedUtc >= since;
        }
        catch (ZetaPrepException)
        {
            return false;
        }
    }

    /// <summary>The command as typed, with --resume (and without --overwrite, which would discard the finished shards).</summary>
    private static string ResumeCommand(ParseResult parse)
    {
        var tokens = parse.Tokens.Select(t => t.Value).Where(t => t != "--overwrite").ToList();
        if (!tokens.Contains("--resume"))
        {
            tokens.Add("--resume");
        }
        return CommandLineText(tokens);
    }

    /// <summary>
    /// The command manifest.json and the card record: as typed, less --resume, so that a resumed output records the
    /// command that makes the whole dataset (as a merged one drops --worker), not how it was finished. The same
    /// command into a new directory writes the same bytes either way.
    /// </summary>
    private static string RecordedCommand(ParseResult parse)
    {
        var tokens = parse.Tokens.Select(t => t.Value).ToList();
        var at = tokens.IndexOf("--resume");
        if (at >= 0)
        {
            tokens.RemoveRange(at, at + 1 < tokens.Count && tokens[at + 1] is "true" or "True" ? 2 : 1);
        }
        return CommandLineText(tokens);
    }

    private static string CommandLineText(IEnumerable<string> tokens) => "zetaprep " + ShellWords.Join(tokens);
}
