using ZetaPrep.Imaging;
using ZetaPrep.Sources;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>Turns a --val path into a validation source: a shard directory (has data/*.parquet) or an ImageFolder.</summary>
internal static class ValidationInput
{
    public static async Task<IValidationSource> OpenAsync(string path, CancellationToken ct)
    {
        var decoder = new SkiaImageDecoder();
        if (File.Exists(path))
        {
            throw ZetaPrepException.Usage($"--val {path}: is a file; give a directory: an ImageFolder (one sub-folder per class) or a shard directory.");
        }

        // A generate output in another format (webdataset: shard-*.tar) is refused as such, not as an ImageFolder without images.
        if (File.Exists(Path.Combine(path, "manifest.json")) && Directory.EnumerateFiles(path, "*.tar").Any())
        {
            await ShardDirectory.OpenAsync(path, "--val", ct).ConfigureAwait(false);
        }

        // Shards in DIR/data (a generate output) or directly in DIR, as --data takes them.
        if ((Directory.Exists(Path.Combine(path, "data")) && Directory.EnumerateFiles(Path.Combine(path, "data"), "*.parquet").Any())
            || (Directory.Exists(path) && Directory.EnumerateFiles(path, "*.parquet").Any()))
        {
            return new ShardValidation(await ShardDirectory.OpenAsync(path, "--val", ct).ConfigureAwait(false), decoder);
        }

        if (!Directory.Exists(path))
        {
            throw ZetaPrepException.Usage($"--val {path}: directory not found; give an ImageFolder (one sub-folder per class) or a shard directory.");
        }

        return new ImageSourceValidation(new ImageFolderSource(path, new ImageFolderOptions { OptionName = "--val" }), decoder);
    }
}
