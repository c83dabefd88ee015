using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ZetaPrep.Shards;

namespace ZetaPrep.Sources;

/// <summary>
/// The SHA-256 of large input files (a preset's downloaded archives) remembered between runs, so that the next run over
/// the same download neither reads it a second time nor spends a core on it (~4 s for ISIC 2017's 5.8 GB zip, ~15 s and
/// a 23 GB read for ISIC 2020's). An entry is used only while the file's size, modification and status-change times (in
/// nanoseconds), inode and device are the ones it was hashed with — what git's index and DVC's state database trust.
/// Any write to the file changes its status-change time (which no user call can set back), and so does a rename or a
/// copy over it, so a changed file is always hashed again. A file whose status changed within <see cref="RacyWindow"/>
/// of its hash is not remembered (it may change again within the same clock tick), nor one that changed while it was
/// being hashed, nor one whose file system reports no times.
/// </summary>
/// <remarks>
/// One small JSON file per input path under <c>file-sha256/</c> in the cache directory: <c>$ZETAPREP_CACHE_DIR</c>, else
/// <c>$XDG_CACHE_HOME/zetaprep</c>, else <c>~/.cache/zetaprep</c>; <c>ZETAPREP_CACHE_DIR=none</c> turns it off. Best
/// effort: an unreadable, damaged or unwritable cache only means hashing the file again. Linux only (statx); elsewhere
/// files are always hashed.
/// </remarks>
public sealed class FileHashCache
{
    /// <summary>The environment variable naming the cache directory (<c>none</c>: no cache).</summary>
    public const string DirectoryVariable = "ZETAPREP_CACHE_DIR";

    public FileHashCache(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>The cache directory; entries live in its <c>file-sha256</c> folder.</summary>
    public string Directory { get; }

    /// <summary>How long ago a file's status must have changed for its hash to be remembered.</summary>
    public TimeSpan RacyWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The cache the environment names, or null when it is turned off or no directory can be found.</summary>
    public static FileHashCache? FromEnvironment() =>
        FromEnvironment(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static FileHashCache? FromEnvironment(Func<string, string?> variable, string? home)
    {
        var named = variable(DirectoryVariable);
        if (!string.IsNullOrEmpty(named))
        {
            return string.Equals(named, "none", StringComparison.OrdinalIgnoreCase) ? null : new FileHashCache(named);
        }
        var xdg = variable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg))
        {
            return new FileHashCache(Path.Combine(xdg, "zetaprep"));
        }
        return string.IsNullOrEmpty(home) ? null : new FileHashCache(Path.Combine(home, ".cache", "zetaprep"));
    }

    /// <summary>The file's size and SHA-256: from the cache while the file is unchanged, else read and hashed (and remembered).</summary>
    public async Task<(long Bytes, byte[] Sha256, bool FromCache)> HashAsync(string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var before = FileIdentity.Of(full);
        if (before is not null && TryRead(full, before.Value) is { } remembered)
        {
            return (before.Value.Size, remembered, true);
        }
        var (bytes, hash) = await HashFileAsync(full, cancellationToken).ConfigureAwait(false);
        if (before is { } b && b.Trustworthy && FileIdentity.Of(full) == b && b.Size == bytes && FileIdentity.Settled(b.CtimeNs, RacyWindow))
        {
            TryWrite(full, b, hash);
        }
        return (bytes, hash, false);
    }

    /// <summary>The file's SHA-256 if an entry holds it for the file as it is now; null otherwise. Never reads the file.</summary>
    internal byte[]? Remembered(string path)
    {
        var full = Path.GetFullPath(path);
        return FileIdentity.Of(full) is { } now ? TryRead(full, now) : null;
    }

    /// <summary>Where the entry for <paramref name="fullPath"/> lives (named by the SHA-256 of the path).</summary>
    public string EntryPath(string fullPath) =>
        Path.Combine(Directory, "file-sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fullPath))).AsSpan(0, 32).ToString() + ".json");

    /// <summary>Reads and hashes the file, no cache.</summary>
    internal static async Task<(long Bytes, byte[] Hash)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return (stream.Length, hash);
        }
    }

    private byte[]? TryRead(string fullPath, FileIdentity now)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(EntryPath(fullPath)));
            var e = json.RootElement;
            var recorded = new FileIdentity(e.GetProperty("size").GetInt64(), e.GetProperty("mtime_ns").GetInt64(), e.GetProperty("ctime_ns").GetInt64(),
                e.GetProperty("inode").GetUInt64(), e.GetProperty("device").GetUInt64());
            var sha = e.GetProperty("sha256").GetString();
            return e.GetProperty("path").GetString() == fullPath && recorded == now && sha is { Length: 64 } ? Convert.FromHexString(sha) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private void TryWrite(string fullPath, FileIdentity identity, byte[] hash)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("path", fullPath);
            json.WriteNumber("size", identity.Size);
            json.WriteNumber("mtime_ns", identity.MtimeNs);
            json.WriteNumber("ctime_ns", identity.CtimeNs);
            json.WriteNumber("inode", identity.Inode);
            json.WriteNumber("device", identity.Device);
            json.WriteString("sha256", Convert.ToHexStringLower(hash));
            json.WriteEndObject();
        }
        try
        {
            AtomicFile.Write(EntryPath(fullPath), buffer.WrittenSpan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to do: the cache is best effort.
        }
    }
}
