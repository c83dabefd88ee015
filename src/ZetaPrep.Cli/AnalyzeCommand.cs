using System.CommandLine;
using System.Globalization;
using ZetaPrep.Analysis;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep analyze`: the manifold check — local intrinsic dimension of shards or an ImageFolder in pixel space.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var defaults = new IntrinsicDimensionOptions();
        var input = new Argument<string>("SHARDS_OR_FOLDER") { Description = "A 'zetaprep generate' output directory (any --format), one .parquet shard, or an ImageFolder." };
        var k = new Option<int>("--k") { Description = "Nearest neighbours per point (the point itself excluded).", DefaultValueFactory = _ => defaults.K }.Within(IntrinsicDimensionOptions.MinK, int.MaxValue);
        var alpha = new Option<double>("--alpha-fo") { Description = "Count eigenvalues above ALPHA × the largest (Fukunaga–Olsen).", DefaultValueFactory = _ => defaults.AlphaFo }.Within("strictly between 0 and 1");
        var maxSamples = new Option<int>("--max-samples") { Description = "Analyse at most this many images: a uniform subsample fixed by --seed.", DefaultValueFactory = _ => defaults.MaxSamples }.Within(IntrinsicDimensionOptions.MinSamples, int.MaxValue);
        var size = new Option<int?>("--size") { Description = $"Decode images at SIZE×SIZE RGB, 1 to 16384 (default: the shards' size; {IntrinsicDimensionOptions.DefaultFolderSize} for an ImageFolder); the samples' pixels (samples × 3·SIZE² bytes) must fit in 2 GiB." }.Within(1, SkiaImageDecoder.MaxSize);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the subsample.", DefaultValueFactory = _ => 0UL };
        var device = new Option<string>("--device") { Description = "auto (CUDA when available), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };

        var command = new Command("analyze", "Local intrinsic dimension (Fukunaga–Olsen local PCA on k nearest neighbours in pixel space): mean ± std over the sampled images.")
        {
            input, k, alpha, maxSamples, size, seed, device, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new IntrinsicDimensionOptions
            {
                K = parse.GetValue(k),
                AlphaFo = parse.GetValue(alpha),
                MaxSamples = parse.GetValue(maxSamples),
                Size = parse.GetValue(size),
                Seed = parse.GetValue(seed),
                Device = Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
            };
            var r = await IntrinsicDimension.AnalyzeAsync(parse.GetValue(input)!, options, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var payload = new Dictionary<string, object>
                {
                    ["intrinsic_dim_mean"] = r.Mean,
                    ["intrinsic_dim_std"] = r.Std,
                    ["k"] = r.K,
                    ["samples"] = r.Samples,
                    ["alpha_fo"] = r.AlphaFo,
                    ["input"] = r.Input,
                    ["input_kind"] = r.InputKind,
                    ["available"] = r.Available,
                    ["image_size"] = r.ImageSize,
                    ["pixel_dim"] = r.PixelDimension,
                    ["seed"] = r.Seed,
                    ["device"] = r.Device,
                    ["neighbourhood_includes_point"] = false,
                    ["dims_histogram"] = r.Histogram.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value),
                };
                await stdout.WriteLineAsync(CliJsonContext.Serialize(payload)).ConfigureAwait(false);
                return 0;
            }

            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"input {r.Input} ({r.InputKind}: {r.Samples} of {r.Available} images, {r.ImageSize}×{r.ImageSize} RGB, D = {r.PixelDimension})\n"
                + $"k = {r.K} nearest neighbours (the point itself excluded), alpha_fo = {r.AlphaFo}, seed {r.Seed}, device {r.Device}\n"
                + $"intrinsic dimension {r.Mean:F2} ± {r.Std:F2} (mean ± std over {r.Samples} points)\n"
                + $"histogram (dim:count) {string.Join(' ', r.Histogram.Select(p => $"{p.Key}:{p.Value}"))}")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
