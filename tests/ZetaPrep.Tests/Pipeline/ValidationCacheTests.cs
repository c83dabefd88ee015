using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Sources;
using ZetaPrep.Tests.Imaging;
using ZetaPrep.Tests.Shards;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>The validation pass's verdicts kept between runs over the same files, and dropped as soon as one changes.</summary>
public sealed class ValidationCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Input => Path.Combine(_dir.Path, "in");

    private ValidationCache Cache => new(Path.Combine(_dir.Path, "cache")) { RacyWindow = TimeSpan.Zero };

    private static byte[] Photo(int i) => ImageFixtures.Jpeg(20 + i, 16, (x, y) => ((byte)(x * 9 + i * 20), (byte)(y * 13), (byte)(i * 31)), quality: 90);

    private void WriteInputs(int count = 6)
    {
        for (var i = 0; i < count; i++)
        {
            var dir = Path.Combine(Input, i % 2 == 0 ? "cat" : "dog");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, $"{i}.jpg"), Photo(i));
        }
    }

    private async Task<(DatasetGenerator Generator, GenerationResult Result)> RunAsync(string output, ValidationCache? cache, OnError onError = OnError.Fail,
        CodecChoice codec = CodecChoice.Skia, bool overwrite = false)
    {
        var generator = new DatasetGenerator(new ImageFolderSource(Input), ImageCodecs.Create(codec, new ImageLimits(100_000_000)))
        {
            VerdictCache = cache,
        };
        var options = new GenerateOptions
        {
            OutputDirectory = Path.Combine(_dir.Path, output),
            Plan = new PlanOptions(MixCount.Of(2), GammaSpec.Fixed(2.8), batchSize: 4, seed: 7),
            Size = 16,
            Threads = 2,
            Device = DeviceChoice.Cpu,
            OnError = onError,
            Overwrite = overwrite,
        };
        var result = await generator.RunAsync(options, null, CancellationToken.None);
        return (generator, result);
    }

    private byte[] Shard(string output) => File.ReadAllBytes(Directory.GetFiles(Path.Combine(_dir.Path, output, "data"), "*.parquet").Single());

    [Fact]
    public async Task ASecondRunOverUnchangedFiles_TakesTheVerdictsFromTheCache_AndWritesTheSameBytes()
    {
        WriteInputs();
        var (first, a) = await RunAsync("a", Cache);
        var (second, b) = await RunAsync("b", Cache);

        Assert.Equal(0, first.Times.ValidationReused);
        Assert.Equal(6, second.Times.ValidationReused);
        Assert.True(second.Times.ValidationFromCache);
        Assert.Contains("from the cache", second.Times.Format(TimeSpan.FromSeconds(1)), StringComparison.Ordinal);
        Assert.Equal(a.Manifest.Input.Fingerprint, b.Manifest.Input.Fingerprint);
        Assert.Equal(Shard("a"), Shard("b"));
        Assert.Single(Directory.GetFiles(Cache.Directory, "*.jsonl"));
    }

    [Fact]
    public async Task AFileRewrittenSinceTheVerdicts_MeansAFullPass_WhichFindsItBad()
    {
        WriteInputs();
        // A whole-second modification time, so that setting it back restores the very nanoseconds the verdicts saw.
        var victim = Path.Combine(Input, "dog", "3.jpg");
        var mtime = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(victim, mtime);
        await RunAsync("a", Cache);
        // Same size, same modification time: only the status-change time tells.
        var bytes = File.ReadAllBytes(victim);
        bytes.AsSpan(bytes.Length / 2).Clear();
        File.WriteAllBytes(victim, bytes);
        File.SetLastWriteTimeUtc(victim, mtime);

        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => RunAsync("b", Cache));
        Assert.Contains("3.jpg", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "b", "data")));
    }

    /// <summary>
    /// With TurboJPEG a pass leaves the JPEG scans to the batches, except when --overwrite replaces an output (a stop
    /// mid-run would leave neither): such a run does not take the verdicts of a pass that left them out.
    /// </summary>
    [Fact]
    public async Task AnOverwrite_DoesNotTakeVerdictsMadeWithoutTheScans()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }
        WriteInputs();
        await RunAsync("b", null, codec: CodecChoice.TurboJpeg);
        var shard = Shard("b");
        var photo = ImageFixtures.Jpeg(256, 256, (x, y) => ((byte)(x * 37 ^ y * 11), (byte)(x * y), (byte)(x + y * 5)), quality: 95);
        File.WriteAllBytes(Path.Combine(Input, "cat", "cut.jpg"), [.. photo.AsSpan(0, photo.Length * 3 / 10), 0xFF, 0xD9]);
        // Into a new directory: the pass leaves the scans to the batch, which stops the run; the cache keeps the verdicts.
        var late = await Assert.ThrowsAsync<ZetaPrepException>(() => RunAsync("a", Cache, codec: CodecChoice.TurboJpeg));
        Assert.Contains("the run stopped there and removed the shards it had written", late.Message, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Cache.Directory, "*.jsonl"));

        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => RunAsync("b", Cache, codec: CodecChoice.TurboJpeg, overwrite: true));

        Assert.Contains("cut.jpg: truncated or corrupt JPEG data", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the run stopped there", e.Message, StringComparison.Ordinal);
        Assert.Equal(shard, Shard("b"));
    }

    [Fact]
    public async Task AnAddedFile_MeansAFullPass()
    {
        WriteInputs();
        await RunAsync("a", Cache);
        File.WriteAllBytes(Path.Combine(Input, "cat", "extra.jpg"), Photo(9));

        var (second, b) = await RunAsync("b", Cache);

        Assert.Equal(0, second.Times.ValidationReused);
        Assert.Equal(7, b.Manifest.Input.Count);
    }

    [Fact]
    public async Task SkipVerdicts_AreKeptToo()
    {
        WriteInputs();
        File.WriteAllBytes(Path.Combine(Input, "cat", "broken.jpg"), Photo(1)[..40]);
        var (_, a) = await RunAsync("a", Cache, OnError.Skip);
        var (second, b) = await RunAsync("b", Cache, OnError.Skip);

        Assert.Equal(7, second.Times.ValidationReused);
        Assert.Equal(["cat/broken.jpg"], b.Manifest.Skipped.Select(s => s.Id));
        Assert.Equal(a.Manifest.Skipped, b.Manifest.Skipped);
        Assert.Equal(Shard("a"), Shard("b"));
    }

    [Fact]
    public async Task FilesChangedWithinTheRacyWindow_AreNotKept_AndNoCacheMeansAPassEveryTime()
    {
        WriteInputs();
        var racy = new ValidationCache(Path.Combine(_dir.Path, "cache")) { RacyWindow = TimeSpan.FromHours(1) };
        await RunAsync("a", racy);
        var (second, _) = await RunAsync("b", racy);
        Assert.Equal(0, second.Times.ValidationReused);
        Assert.False(Directory.Exists(racy.Directory));

        var (third, _) = await RunAsync("c", null);
        Assert.Equal(0, third.Times.ValidationReused);
    }

    [Fact]
    public void OnlyTheMostRecentlyUsedInputSetsAreKept()
    {
        var cache = Cache;
        var listed = new[] { new SourceItem("a.jpg", 0, 3) };
        var entries = new[] { new ValidationRecord.Entry("a.jpg", 3, new byte[32], null) };
        for (var i = 0; i < ValidationCache.Keep + 3; i++)
        {
            var id = new InputsIdentity($"digest {i}", 1);
            cache.TryStore("key", id, id, entries);
            File.SetLastWriteTimeUtc(cache.PathFor("key", id), DateTime.UtcNow.AddMinutes(i - 100));
        }
        Assert.Equal(ValidationCache.Keep, Directory.GetFiles(cache.Directory, "*.jsonl").Length);
        Assert.Null(cache.TryRead("key", new InputsIdentity("digest 0", 1), listed));
        Assert.NotNull(cache.TryRead("key", new InputsIdentity($"digest {ValidationCache.Keep + 2}", 1), listed));
        Assert.Null(cache.TryRead("other key", new InputsIdentity($"digest {ValidationCache.Keep + 2}", 1), listed));
    }
}
