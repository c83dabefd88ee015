using System.Globalization;
using System.Runtime.CompilerServices;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>A generated output directory opened for reading: its manifest and shard format.</summary>
public sealed record GeneratedDataset(string Directory, GenerationManifest Manifest, IShardFormat Format)
{
    /// <summary>Opens <paramref name="directory"/>; a missing directory or manifest, a file, or workers' output not yet merged is an error naming it.</summary>
    public static GeneratedDataset Open(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        if (File.Exists(full))
        {
            var hint = Path.GetFileName(full) == GenerationManifest.FileName ? $" (here: {Path.GetDirectoryName(full)})" : "";
            throw ZetaPrepException.Usage($"{full}: is a file, not a directory; give the ZetaPrep output directory that holds manifest.json{hint}.");
        }
        if (!System.IO.Directory.Exists(full))
        {
            throw ZetaPrepException.Usage($"{full}: directory not found; give a ZetaPrep output directory (it holds manifest.json).");
        }
        var manifestPath = Path.Combine(full, GenerationManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            // Workers write manifest.worker-I-of-W.json; manifest.json appears only when merge has checked every shard.
            if (System.IO.Directory.EnumerateFiles(full, "manifest.worker-*-of-*.json").Order(StringComparer.Ordinal).FirstOrDefault() is { } partial)
            {
                throw new ZetaPrepException($"{full}: holds {Path.GetFileName(partial)} but no {GenerationManifest.FileName}: the workers' shards were never merged (some may be missing); run zetaprep merge {full} first.");
            }
            throw ZetaPrepException.Usage($"{manifestPath}: not found; give a ZetaPrep output directory (it holds manifest.json).");
        }
        var manifest = GenerationManifest.Read(manifestPath);
        return new GeneratedDataset(full, manifest, ShardFormats.Get(manifest.Options.Format));
    }

    /// <summary>
    /// Null for a finished run; else one line saying the manifest is incomplete, what <paramref name="covers"/> (e.g. "this
    /// summary covers those shards only") and how to finish it (or, while a live run holds the output's lock, that it is
    /// still writing: a --resume would be refused): inspect's warning and preview's note.
    /// </summary>
    public string? IncompleteNote(string covers)
    {
        if (Manifest.Complete)
        {
            return null;
        }
        var way = Pipeline.OutputLock.WritersIn(Directory) is { } w
            ? $"{w.Who} still writing there (holding {w.Locks}): look again after {w.Ends}"
            : "finish the run with 'zetaprep generate ... --resume' (same options)";
        return string.Create(CultureInfo.InvariantCulture,
            $"incomplete: {GenerationManifest.FileName} says complete: false ({Manifest.Shards.Count} of {Manifest.Plan.Shards} shards written), so {covers}; {way}.");
    }

    /// <summary>Every row of every shard in manifest order, with the shard's relative path and the row's index within it.</summary>
    public async IAsyncEnumerable<(string Shard, int Index, ShardRow Row)> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var shard in Manifest.Shards)
        {
            var i = 0;
            // A folder-format image missing or changed is that row's alone: its row comes with no image bytes, as a
            // Parquet row's damaged PNG comes with bytes that do not decode (preview crosses it out, inspect counts the
            // label), where the reader's error had stopped the whole summary or sheet (QA); verify names it.
            var rows = Format.Kind == ShardFormat.Folder
                ? FolderShardFormat.ReadRowsOrProblemsAsync(Directory, shard.File, ct).Select(r => r.Row)
                : Format.ReadRowsAsync(Directory, shard.File, ct);
            await foreach (var row in rows.ConfigureAwait(false))
            {
                yield return (shard.File, i++, row);
            }
        }
    }
}
