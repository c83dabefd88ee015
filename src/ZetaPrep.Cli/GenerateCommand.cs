using System.CommandLine;
using System.Globalization;
using ZetaPrep.Imaging;
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
        var input = new Option<string>("--in") { Description = "Input: an ImageFolder directory (one sub-folder per class).", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory (new or empty) for the shards, manifest.json and README.md (dataset card).", Required = true };
        var n = new Option<string>("--n") { Description = "Samples mixed per output: an integer ≥ 2, or 'batch' (the authors' B×B formulation).", DefaultValueFactory = _ => "8" };
        var gamma = new Option<string>("--gamma") { Description = "ζ exponent γ > 0, or a range LO:HI drawn per output ('min' = γ_min ≈ 1.72865, e.g. min:4).", DefaultValueFactory = _ => "2.8" };
        var batchSize = new Option<int>("--batch-size") { Description = "Inputs per batch; outputs mix samples of one batch (≥ --n).", DefaultValueFactory = _ => 64 };
        var passes = new Option<int>("--passes") { Description = "Passes over the input, reshuffled each pass; rows = inputs × passes.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed: same inputs, options and seed give byte-identical shards.", DefaultValueFactory = _ => 0UL };
        var shardRows = new Option<int>("--shard-rows") { Description = "Rows per shard (whole batches per shard).", DefaultValueFactory = _ => 1000 };
        var size = new Option<int>("--size") { Description = "Output images are SIZE×SIZE RGB.", DefaultValueFactory = _ => 224 };
        var resize = new Option<string>("--resize") { Description = "crop: shorter side to SIZE then centre-crop; pad: longer side to SIZE, black bars; stretch: ignore aspect.", DefaultValueFactory = _ => "crop" };
        resize.AcceptOnlyFromAmong("crop", "pad", "stretch");
        var threads = new Option<int>("--threads") { Description = "Worker threads for decoding and encoding (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = new Option<string>("--device") { Description = "Mixing device: auto (CUDA when available), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var maxPixels = new Option<long>("--max-pixels") { Description = "Refuse inputs whose header claims more pixels than this (decompression-bomb guard).", DefaultValueFactory = _ => 100_000_000L };
        var format = new Option<string>("--format") { Description = "Shard format: parquet (data/*.parquet, HF hub layout), webdataset (shard-NNNNNN.tar + shardindex.json) or folder (images/*.png + labels.parquet).", DefaultValueFactory = _ => "parquet" };
        format.AcceptOnlyFromAmong([.. ShardFormats.Names]);
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing ZetaPrep output in --out." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr." };

        var command = new Command("generate", "Mix images with ζ-mixup and write HuggingFace-style Parquet shards plus manifest.json.")
        {
            input, output, n, gamma, batchSize, passes, seed, shardRows, size, resize, threads, device, maxPixels, format, overwrite, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var plan = new PlanOptions(
                MixCount.Parse(parse.GetValue(n)!),
                GammaSpec.Parse(parse.GetValue(gamma)!),
                parse.GetValue(batchSize),
                parse.GetValue(passes),
                parse.GetValue(seed),
                parse.GetValue(shardRows));
            var options = new GenerateOptions
            {
                OutputDirectory = parse.GetValue(output)!,
                Plan = plan,
                Size = parse.GetValue(size),
                Resize = Enum.Parse<ResizeMode>(parse.GetValue(resize)!, ignoreCase: true),
                Threads = parse.GetValue(threads),
                Device = Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
                MaxPixels = parse.GetValue(maxPixels),
                Overwrite = parse.GetValue(overwrite),
                Format = ShardFormats.Get(parse.GetValue(format)!).Kind,
                CommandLine = CommandLineText(parse.Tokens.Select(t => t.Value)),
            };
            options.Validate();
            var source = new ImageFolderSource(parse.GetValue(input)!);
            var generator = new DatasetGenerator(source, new SkiaImageDecoder(new ImageLimits(options.MaxPixels)));
            using var reporter = new ProgressReporter(stderr, enabled: !parse.GetValue(quiet) && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error));
            var result = await generator.RunAsync(options, reporter, ct).ConfigureAwait(false);
            var m = result.Manifest;
            var rate = m.WallTimeS > 0 ? m.Totals.Rows / m.WallTimeS : 0;
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wrote {m.Totals.Rows} rows ({m.Input.Count} inputs × {m.Options.Passes} pass(es), N={m.Options.N}, γ={m.Options.Gamma}) in {m.Shards.Count} shard(s), {m.Totals.Bytes / 1048576.0:F1} MiB, to {Path.GetDirectoryName(result.ManifestPath)}"))
                .ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{m.WallTimeS:F2} s, {rate:F0} rows/s on {m.Device} with {options.Threads} thread(s); manifest: {result.ManifestPath}"))
                .ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static string CommandLineText(IEnumerable<string> tokens) =>
        "zetaprep " + string.Join(' ', tokens.Select(t => t.Length == 0 || t.Any(char.IsWhiteSpace) || t.Contains('\'', StringComparison.Ordinal) ? "'" + t.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : t));
}
