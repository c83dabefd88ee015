using ZetaPrep.Imaging;
using ZetaPrep.Sources;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>Turns a --val path into a validation source: a shard directory (a generate output in any format, or data/*.parquet) or an ImageFolder.</summary>
internal static class ValidationInput
{
    public static async Task<IValidationSource> OpenAsync(string path, CancellationToken ct)
    {
        var decoder = new SkiaImageDecoder();
        if (File.Exists(path))
        {
            throw ZetaPrepException.Usage($"--val {path}: is a file; give a directory: an ImageFolder (one sub-folder per class) or a shard directory.");
        }

        // A generate output in any format (WebDataset: shard-*.tar, folder: labels/*.parquet, with manifest.json naming the
        // format; an ImageFolder may hold a manifest.json of its own), or Parquet shards in DIR/data or directly in DIR,
        // as --data takes them.
        if ((File.Exists(Path.Combine(path, "manifest.json"))
                && (Directory.EnumerateFiles(path, "shard-*.tar").Any() || (Directory.Exists(Path.Combine(path, "labels")) && Directory.EnumerateFiles(Path.Combine(path, "labels"), "*.parquet").Any())))
            // WebDataset shards without their manifest: refused there as such, not as an ImageFolder with no images.
            || (Directory.Exists(path) && Directory.EnumerateFiles(path, "shard-*.tar").Any())
            || (Directory.Exists(Path.Combine(path, "data")) && Directory.EnumerateFiles(Path.Combine(path, "data"), "*.parquet").Any())
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
