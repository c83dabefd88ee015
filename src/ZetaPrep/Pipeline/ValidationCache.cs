using System.Security.Cryptography;
using System.Text;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// The validation pass's verdicts kept between runs over the same inputs (a γ sweep, <c>compare</c>'s runs, a second
/// dataset from the same download), so that a later run skips reading, checking and hashing every input: on the ISIC
/// archives that pass inflates and hashes every member, 13–14 % of a run's CPU. A record (the <see cref="ValidationRecord"/>
/// format) is used only for the same verdict key (tool version, codec, --max-pixels, --on-error) and the same
/// <see cref="InputsIdentity"/>: the same listing, and every file it reads (each image file, or the zip holding it)
/// with the same size, modification and status-change times, inode and device. So a written, replaced or moved file
/// means a full pass again, and the verdicts are trusted like the file-hash cache's hashes (no SHA-256 at decode).
/// </summary>
/// <remarks>
/// Lives in the file-hash cache's directory (<c>$ZETAPREP_CACHE_DIR</c>…) under <c>validated/</c>, one JSON Lines file
/// per input set (~100 bytes per input; ImageNet's 1.28 M images ~130 MB); the <see cref="Keep"/> most recently used
/// stay. Stored only when no file changed during the pass and none within <see cref="RacyWindow"/> before it. Best
/// effort: an unreadable or unwritable cache only means running the pass.
/// </remarks>
internal sealed class ValidationCache(string directory)
{
    /// <summary>How many input sets' verdicts are kept (least recently used go first).</summary>
    public const int Keep = 16;

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>How long before the pass the newest of the input files must have changed for its verdicts to be kept.</summary>
    public TimeSpan RacyWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The cache under the file-hash cache's directory, or null when that is turned off.</summary>
    public static ValidationCache? FromEnvironment() =>
        FileHashCache.FromEnvironment() is { } files ? new ValidationCache(Path.Combine(files.Directory, "validated")) : null;

    public string PathFor(string key, InputsIdentity identity) =>
        Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key + "\n" + identity.Digest))).AsSpan(0, 32).ToString() + ".jsonl");

    /// <summary>The verdicts kept for these inputs (marked as just used), or null.</summary>
    public ValidationRecord.Entry[]? TryRead(string key, InputsIdentity identity, IReadOnlyList<SourceItem> listed)
    {
        var path = PathFor(key, identity);
        var entries = ValidationRecord.TryReadFile(path, key, listed);
        if (entries is not null)
        {
            Quietly(() => File.SetLastWriteTimeUtc(path, DateTime.UtcNow));
        }
        return entries;
    }

    /// <summary>Keeps the verdicts of a pass over inputs that had <paramref name="before"/> as identity when it began and <paramref name="after"/> when it ended.</summary>
    public void TryStore(string key, InputsIdentity before, InputsIdentity? after, IReadOnlyList<ValidationRecord.Entry> entries)
    {
        if (after != before || !FileIdentity.Settled(before.NewestChangeNs, RacyWindow))
        {
            return;
        }
        Quietly(() =>
        {
            System.IO.Directory.CreateDirectory(Directory);
            ValidationRecord.WriteFile(PathFor(key, before), key, entries);
            foreach (var old in new DirectoryInfo(Directory).EnumerateFiles("*.jsonl").OrderByDescending(f => f.LastWriteTimeUtc).Skip(Keep))
            {
                old.Delete();
            }
        });
    }

    private static void Quietly(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is best effort.
        }
    }
}
