using ZetaPrep.Imaging;
using ZetaPrep.Shards;
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

        // A generate output in any format (WebDataset shard-*.tar, with or without its manifest.json: refused there as
        // such, not as an ImageFolder with no images; folder-format label parts with the manifest.json naming the format,
        // as an ImageFolder may hold a manifest.json of its own), or Parquet shards in DIR/data or directly in DIR, as
        // --data takes them.
        if ((Directory.Exists(path) && ShardFormats.FilesOnDisk(path, ShardFormat.WebDataset).Count > 0)
            || (File.Exists(Path.Combine(path, "manifest.json")) && ShardFormats.FilesOnDisk(path, ShardFormat.Folder).Count > 0)
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
