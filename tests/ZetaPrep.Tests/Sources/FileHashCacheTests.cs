using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>A download's SHA-256 remembered between runs while the file is unchanged, and only then.</summary>
public sealed class FileHashCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-hashcache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private FileHashCache Cache(TimeSpan? racy = null) => new(Path.Combine(_root, "cache")) { RacyWindow = racy ?? TimeSpan.Zero };

    private string Input(byte[] bytes, string name = "ISIC-2017_Training_Data.zip")
    {
        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Bytes(int seed, int length = 200_000)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Replaces the remembered hash, so a result carrying it can only have come from the cache.</summary>
    private static void Poison(FileHashCache cache, string path, byte[] fake)
    {
        var entry = cache.EntryPath(Path.GetFullPath(path));
        var json = JsonNode.Parse(File.ReadAllText(entry))!;
        json["sha256"] = Convert.ToHexStringLower(fake);
        File.WriteAllText(entry, json.ToJsonString());
    }

    [Fact]
    public void Settled_ReadsTheClockFinerThanAMillisecond()
    {
        // A change 50 µs ago is settled when no window is asked for: read to the millisecond, "now" lay up to 1 ms in
        // the past and such a change (a file hashed right after it was written) was never remembered.
        for (var i = 0; i < 20; i++)
        {
            var nowNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
            Assert.True(FileIdentity.Settled(nowNs - 50_000, TimeSpan.Zero));
            Assert.False(FileIdentity.Settled(nowNs, TimeSpan.FromSeconds(1)));
            Assert.True(FileIdentity.Settled(nowNs - 1_100_000_000, TimeSpan.FromSeconds(1)));
        }
    }

    [Fact]
    public async Task AnUnchangedFile_IsHashedOnce_ThenTakenFromTheCache()
    {
        var cache = Cache();
        var bytes = Bytes(1);
        var path = Input(bytes);

        var first = await cache.HashAsync(path, CancellationToken.None);
        Assert.False(first.FromCache);
        Assert.Equal(SHA256.HashData(bytes), first.Sha256);
        Assert.Equal(bytes.Length, first.Bytes);
        Assert.True(File.Exists(cache.EntryPath(path)));

        var fake = SHA256.HashData("not the file"u8);
        Poison(cache, path, fake);
        var second = await cache.HashAsync(path, CancellationToken.None);
        Assert.True(second.FromCache);
        Assert.Equal(fake, second.Sha256);
        Assert.Equal(bytes.Length, second.Bytes);
    }

    [Fact]
    public async Task AFileRewrittenWithTheSameSizeAndModificationTime_IsHashedAgain()
    {
        var cache = Cache();
        var path = Input(Bytes(1));
        // A whole-second time, so that setting it back restores the very nanoseconds the entry recorded.
        var mtime = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, mtime);
        await cache.HashAsync(path, CancellationToken.None);
        Poison(cache, path, SHA256.HashData("stale"u8));

        // Same length, modification time set back (as `touch -d` or `rsync --inplace -t` would): the status-change time moved.
        var edited = Bytes(2);
        await using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            await f.WriteAsync(edited);
        }
        File.SetLastWriteTimeUtc(path, mtime);

        var again = await cache.HashAsync(path, CancellationToken.None);
        Assert.False(again.FromCache);
        Assert.Equal(SHA256.HashData(edited), again.Sha256);
    }

    [Fact]
    public async Task AFileReplacedByAnother_IsHashedAgain()
    {
        var cache = Cache();
        var path = Input(Bytes(1));
        await cache.HashAsync(path, CancellationToken.None);
        Poison(cache, path, SHA256.HashData("stale"u8));
        var replacement = Input(Bytes(3), "new.zip");
        File.Move(replacement, path, overwrite: true);

        var again = await cache.HashAsync(path, CancellationToken.None);
        Assert.False(again.FromCache);
        Assert.Equal(SHA256.HashData(Bytes(3)), again.Sha256);
    }

    [Fact]
    public async Task AFileChangedWithinTheRacyWindow_IsNotRemembered()
    {
        var cache = Cache(TimeSpan.FromHours(1));
        var path = Input(Bytes(1));

        var first = await cache.HashAsync(path, CancellationToken.None);
        var second = await cache.HashAsync(path, CancellationToken.None);

        Assert.False(File.Exists(cache.EntryPath(path)));
        Assert.False(second.FromCache);
        Assert.Equal(first.Sha256, second.Sha256);
    }

    [Fact]
    public async Task AFileWithoutAModificationTime_IsNotRemembered()
    {
        // As some FUSE and network file systems report: with no times, a rewrite of the same size would go unseen.
        var cache = Cache();
        var path = Input(Bytes(1));
        File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch);

        await cache.HashAsync(path, CancellationToken.None);

        Assert.False(File.Exists(cache.EntryPath(path)));
    }

    [Fact]
    public async Task ADamagedEntry_IsIgnoredAndRewritten()
    {
        var cache = Cache();
        var bytes = Bytes(1);
        var path = Input(bytes);
        await cache.HashAsync(path, CancellationToken.None);
        File.WriteAllText(cache.EntryPath(path), "{\"path\": \"" + path + "\", \"size\": 12");

        var again = await cache.HashAsync(path, CancellationToken.None);
        var third = await cache.HashAsync(path, CancellationToken.None);

        Assert.False(again.FromCache);
        Assert.Equal(SHA256.HashData(bytes), again.Sha256);
        Assert.True(third.FromCache);
        Assert.Equal(SHA256.HashData(bytes), third.Sha256);
    }

    [Fact]
    public async Task AnUnwritableCache_StillGivesTheHash()
    {
        var blocked = Path.Combine(_root, "a-file");
        File.WriteAllText(blocked, "the cache directory cannot be created under a file");
        var cache = new FileHashCache(Path.Combine(blocked, "cache")) { RacyWindow = TimeSpan.Zero };
        var bytes = Bytes(1);
        var path = Input(bytes);

        var result = await cache.HashAsync(path, CancellationToken.None);

        Assert.False(result.FromCache);
        Assert.Equal(SHA256.HashData(bytes), result.Sha256);
        Assert.Empty(Directory.GetFiles(_root, "*.tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void TheCacheDirectory_ComesFromTheEnvironment()
    {
        static FileHashCache? From(string? dir, string? xdg, string? home) =>
            FileHashCache.FromEnvironment(v => v switch { "ZETAPREP_CACHE_DIR" => dir, "XDG_CACHE_HOME" => xdg, _ => null }, home);

        Assert.Equal("/data/cache", From("/data/cache", "/x", "/home/u")!.Directory);
        Assert.Null(From("none", "/x", "/home/u"));
        Assert.Null(From("NONE", null, "/home/u"));
        Assert.Equal("/x/zetaprep", From(null, "/x", "/home/u")!.Directory);
        Assert.Equal("/home/u/.cache/zetaprep", From("", "relative", "/home/u")!.Directory);
        Assert.Null(From(null, null, ""));
    }
}
