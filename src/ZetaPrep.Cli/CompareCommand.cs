using System.CommandLine;
using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep compare`: generate + train per (method, seed), then one table, JSON and bar chart of the results.</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new ComparisonOptions { InputDirectory = "", OutputDirectory = "", Methods = [] };
        var input = new Option<string>("--in") { Description = "Training images: an ImageFolder directory (one sub-folder per class).", Required = true };
        var val = new Option<string>("--val") { Description = "Validation images: an ImageFolder directory or an unmixed shard directory.", Required = true };
        var methods = new Option<string>("--methods") { Description = "Comma-separated methods to compare: none (ERM on resized originals), mixup, zeta, cutmix, cutmix+zeta (generate's zeta,cutmix switch cannot be given: the comma separates entries).", DefaultValueFactory = _ => "none,mixup,zeta" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds 0 … SEEDS−1 per method (each seeds generation and training).", DefaultValueFactory = _ => defaults.Seeds }.Within(1, int.MaxValue);
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per run.", DefaultValueFactory = _ => defaults.Epochs }.Within(1, int.MaxValue);
        var output = new Option<string>("--out") { Description = "Directory for shards/, runs/, results.md, results.json and results.png; finished runs in it are reused.", Required = true };
        var size = new Option<int>("--size") { Description = "Generated (and trained) images are SIZE×SIZE RGB, 8 to 4096.", DefaultValueFactory = _ => defaults.Size }.Within(8, 4096);
        var arch = new Option<string>("--arch") { Description = "TorchVision architecture.", DefaultValueFactory = _ => "resnet18" };
        arch.AcceptOnlyFromAmong("resnet18", "resnet50");
        var batchSize = new Option<int>("--batch-size") { Description = "Training images per step.", DefaultValueFactory = _ => defaults.BatchSize }.Within(2, TrainOptions.MaxBatchSize);
        var n = new Option<string>("--n") { Description = "ζ-mixup samples mixed per output: an integer from 2 to 64 (the fixed generation batch), or 'batch'; only the ζ methods use it (refused without one).", DefaultValueFactory = _ => "8" };
        var gamma = new Option<string>("--gamma") { Description = "ζ-mixup exponent γ, or a range LO:HI; only the ζ methods use it (refused without one).", DefaultValueFactory = _ => "2.8" };
        var threads = new Option<int>("--threads") { Description = "Decode/encode workers for generation and training (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount }.Within(1, GenerateOptions.MaxThreads);
        var device = new Option<string>("--device") { Description = "auto (CUDA when available), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var k = new Option<int?>("--k") { Description = "Nearest neighbours for the intrinsic-dimension check (default 128, lowered with a note when the shards give fewer than 129 sampled images; a larger --k than the sample allows is refused before any work)." }.Within(2, int.MaxValue);
        var maxSamples = new Option<int>("--max-samples") { Description = "Images sampled for the intrinsic-dimension check.", DefaultValueFactory = _ => defaults.MaxSamples }.Within(3, int.MaxValue);
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr." };

        var command = new Command("compare", "Compare generation methods (e.g. ERM, mixup, ζ-mixup): generate and train per method and seed, then tabulate best validation accuracy, micro-/macro-F1 and D_int (mean ± std).")
        {
            input, val, methods, seeds, epochs, output, size, arch, batchSize, n, gamma, threads, device, k, maxSamples, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new ComparisonOptions
            {
                InputDirectory = parse.GetValue(input)!,
                OutputDirectory = parse.GetValue(output)!,
                ValidationPath = parse.GetValue(val)!,
                Methods = parse.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries),
                Seeds = parse.GetValue(seeds),
                Epochs = parse.GetValue(epochs),
                Size = parse.GetValue(size),
                Architecture = Enum.Parse<TrainArchitecture>(parse.GetValue(arch)!, ignoreCase: true),
                BatchSize = parse.GetValue(batchSize),
                N = MixCount.Parse(parse.GetValue(n)!),
                Gamma = GammaSpec.Parse(parse.GetValue(gamma)!),
                Threads = parse.GetValue(threads),
                Device = Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
                K = parse.GetValue(k),
                MaxSamples = parse.GetValue(maxSamples),
            };
            options.Validate();
            // As generate refuses --n/--gamma for a method without ζ weights: given for a list without one, they would change nothing.
            foreach (var option in new Option[] { n, gamma })
            {
                if (!options.AnyZeta && parse.GetResult(option) is { Implicit: false })
                {
                    throw ZetaPrepException.Usage($"{option.Name}: only the methods with ζ weights (zeta, cutmix+zeta) use it, and --methods {parse.GetValue(methods)} lists none: drop {option.Name}, or add zeta to --methods.");
                }
            }
            var validation = await ValidationInput.OpenAsync(parse.GetValue(val)!, ct).ConfigureAwait(false);
            bool verbose = !parse.GetValue(quiet);
            var result = await new MethodComparison(new SkiaImageDecoder()).RunAsync(options, validation, verbose ? line => stderr.WriteLine($"compare: {line}") : null, ct).ConfigureAwait(false);
            await stdout.WriteAsync(await File.ReadAllTextAsync(result.MarkdownPath, ct).ConfigureAwait(false)).ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.Runs.Count} run(s) ({result.Runs.Count(r => r.Reused)} reused); wrote {result.MarkdownPath}, {result.JsonPath}, {result.ChartPath}")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

}
