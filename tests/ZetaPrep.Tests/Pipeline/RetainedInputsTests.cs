using System.Collections.Concurrent;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Sources;
using ZetaPrep.Tests.Imaging;
using ZetaPrep.Tests.Shards;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>Small inputs are read once in a first run: the validation pass keeps their bytes for the batches.</summary>
public sealed class RetainedInputsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SourceItem Item(int i, long size) => new($"c/{i}.png", 0, size);

    [Fact]
    public void Plan_SetsAsideRoomForSmallInputsInListingOrder_UpToTheTotal()
    {
        var items = new[]
        {
            Item(0, 100),
            Item(1, RetainedInputs.MaxFileBytes + 1), // too large: read again by its batch
            Item(2, 0),                               // size unknown
            Item(3, RetainedInputs.MaxFileBytes),
            Item(4, 7),
        };
        var retained = RetainedInputs.Plan(items)!;
        var bytes = Enumerable.Range(0, items.Length).Select(i => Enumerable.Repeat((byte)(i + 1), (int)Math.Max(items[i].Size, 1)).ToArray()).ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            retained.Keep(i, bytes[i], [(byte)i]);
        }

        Assert.Equal(3, retained.Count);
        foreach (var i in new[] { 0, 3, 4 })
        {
            Assert.True(retained.TryGet(i, out var kept));
            Assert.Equal(bytes[i], kept.ToArray());
        }
        Assert.False(retained.TryGet(1, out _));
        Assert.False(retained.TryGet(2, out _));

        // After bad inputs are skipped, the batches index the inputs left.
        var selected = retained.Select([0, 1, 4]);
        Assert.True(selected.TryGet(0, out var first));
        Assert.Equal(bytes[0], first.ToArray());
        Assert.False(selected.TryGet(1, out _));
        Assert.True(selected.TryGet(2, out var last));
        Assert.Equal(bytes[4], last.ToArray());
    }

    [Fact]
    public void Plan_StopsAtTheTotal_AndKeepsNothingWhenNoInputIsSmall()
    {
        var perFile = RetainedInputs.MaxFileBytes;
        var fit = RetainedInputs.MaxTotalBytes / perFile;
        var items = Enumerable.Range(0, fit + 2).Select(i => Item(i, perFile)).ToArray();
        var retained = RetainedInputs.Plan(items)!;
        var bytes = new byte[perFile];
        for (var i = 0; i < items.Length; i++)
        {
            retained.Keep(i, bytes, [1]);
        }

        Assert.Equal(fit, retained.Count);
        Assert.True(retained.TryGet(fit - 1, out _));
        Assert.False(retained.TryGet(fit, out _));
        Assert.Null(RetainedInputs.Plan([Item(0, RetainedInputs.MaxFileBytes + 1), Item(1, 0)]));
    }

    [Fact]
    public void Keep_LeavesOutAFileWhoseSizeChangedSinceTheListing()
    {
        var retained = RetainedInputs.Plan([Item(0, 10), Item(1, 10)])!;
        retained.Keep(0, new byte[11], [7, 7]);
        retained.Keep(1, new byte[10], [8, 8]);

        Assert.False(retained.TryGet(0, out _));
        Assert.Equal(1, retained.Count);
        // What the pass fingerprinted, for the batch's read to be checked against; none for a kept input.
        Assert.Equal([7, 7], retained.UnkeptHash(0));
        Assert.Null(retained.UnkeptHash(1));
        Assert.Equal([7, 7], retained.Select([1, 0]).UnkeptHash(1));
    }

    /// <summary>An ImageFolderSource that counts reads per input and can hide the listing's sizes (then nothing is kept).</summary>
    private sealed class CountingSource(string folder, bool sizes) : IImageSource, IIdentifiableSource
    {
        private readonly ImageFolderSource _inner = new(folder);

        public ConcurrentDictionary<string, int> Reads { get; } = new(StringComparer.Ordinal);

        /// <summary>Bytes returned from an input's second read on (a file rewritten after the validation pass read it).</summary>
        public Func<SourceItem, byte[]?>? Later { get; init; }

        public string Description => _inner.Description;

        /// <summary>Called on an input's second read (its batch's), before the bytes are read.</summary>
        public Action<SourceItem>? OnSecondRead { get; init; }

        public InputsIdentity? Identify(IReadOnlyList<SourceItem> items, int threads, CancellationToken cancellationToken) =>
            ((IIdentifiableSource)_inner).Identify(items, threads, cancellationToken);

        /// <summary>The listed size of each input, when <c>sizes</c> (a size other than the file's: it changed after the listing).</summary>
        public Func<SourceItem, long>? Listed { get; init; }

        public async Task<SourceListing> ListAsync(CancellationToken cancellationToken)
        {
            var listing = await _inner.ListAsync(cancellationToken);
            return listing with { Items = [.. listing.Items.Select(i => i with { Size = !sizes ? 0 : Listed?.Invoke(i) ?? i.Size })] };
        }

        public async Task<byte[]> ReadAsync(SourceItem item, CancellationToken cancellationToken)
        {
            var n = Reads.AddOrUpdate(item.Id, 1, (_, c) => c + 1);
            if (n == 2)
            {
                OnSecondRead?.Invoke(item);
            }
            return n > 1 && Later?.Invoke(item) is { } later ? later : await _inner.ReadAsync(item, cancellationToken);
        }
    }

    private string WriteInputs()
    {
        var input = Path.Combine(_dir.Path, "in");
        for (var i = 0; i < 10; i++)
        {
            var dir = Path.Combine(input, i % 2 == 0 ? "a" : "b");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, $"{i}.png"), ImageFixtures.Png(12, 12, (x, y) => ((byte)(x * 20 + i), (byte)(y * 20), (byte)(i * 25), (byte)255)));
        }
        return input;
    }

    private async Task<byte[]> RunAsync(IImageSource source, string output)
    {
        var generator = new DatasetGenerator(source, ImageCodecs.Create(CodecChoice.Skia, new ImageLimits(100_000_000))) { VerdictCache = null };
        var options = new GenerateOptions
        {
            OutputDirectory = Path.Combine(_dir.Path, output),
            Plan = new PlanOptions(MixCount.Of(3), GammaSpec.Fixed(2.8), batchSize: 4, seed: 3),
            Size = 12,
            Threads = 2,
            Device = DeviceChoice.Cpu,
        };
        await generator.RunAsync(options, null, CancellationToken.None);
        return File.ReadAllBytes(Directory.GetFiles(Path.Combine(_dir.Path, output, "data"), "*.parquet").Single());
    }

    [Fact]
    public async Task AFirstRun_ReadsEachSmallInputOnce_AndWritesWhatReadingItAgainWrites()
    {
        var input = WriteInputs();
        var once = new CountingSource(input, sizes: true);
        var twice = new CountingSource(input, sizes: false);

        var a = await RunAsync(once, "a");
        var b = await RunAsync(twice, "b");

        Assert.Equal(10, once.Reads.Count);
        Assert.All(once.Reads.Values, n => Assert.Equal(1, n));
        Assert.All(twice.Reads.Values, n => Assert.Equal(2, n));
        Assert.Equal(b, a);
    }

    [Fact]
    public async Task AnInputRewrittenAfterTheValidationPass_IsMixedAsThePassReadAndFingerprintedIt()
    {
        var input = WriteInputs();
        var other = ImageFixtures.Png(12, 12, (x, y) => (255, 0, (byte)(x * y), 255));
        var rewritten = new CountingSource(input, sizes: true) { Later = _ => other };

        var a = await RunAsync(rewritten, "a");
        var b = await RunAsync(new CountingSource(input, sizes: true), "b");

        Assert.Equal(b, a);
    }

    [Fact]
    public async Task AnInputReadAgainByItsBatch_ThatChangedSinceThePass_FailsTheRunBeforeItsManifestSaysComplete()
    {
        var input = WriteInputs();
        var other = ImageFixtures.Png(12, 12, (x, y) => (255, 0, (byte)(x * y), 255));
        // No listed sizes: nothing kept, every input read again for its batch; one is rewritten just before that read.
        var source = new CountingSource(input, sizes: false)
        {
            OnSecondRead = item =>
            {
                if (item.Id == "b/3.png")
                {
                    File.WriteAllBytes(Path.Combine(input, "b", "3.png"), other);
                }
            },
        };

        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => RunAsync(source, "a"));

        Assert.StartsWith($"{source.Description}: an input file changed while this run read it", e.Message, StringComparison.Ordinal);
        Assert.Contains("rerun with --overwrite", e.Message, StringComparison.Ordinal);
        Assert.False(ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(_dir.Path, "a", "manifest.json")).Complete);
    }

    [Fact]
    public async Task InputsLeftAlone_PassTheCheck_WithNothingKept()
    {
        var input = WriteInputs();
        var a = await RunAsync(new CountingSource(input, sizes: false), "a");
        var b = await RunAsync(new CountingSource(input, sizes: true), "b");

        Assert.Equal(b, a);
        Assert.True(ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(_dir.Path, "a", "manifest.json")).Complete);
    }

    [Fact]
    public async Task AnInputThatChangedSizeBeforeThePass_AndAgainBeforeItsBatch_FailsTheRunNamingIt()
    {
        var input = WriteInputs();
        var other = ImageFixtures.Png(12, 12, (x, y) => (255, 0, (byte)(x * y), 255));
        // Listed one byte short: room is set aside, the pass finds another size and keeps its hash instead of the bytes.
        var source = new CountingSource(input, sizes: true)
        {
            Listed = item => item.Id == "b/3.png" ? item.Size - 1 : item.Size,
            OnSecondRead = item =>
            {
                if (item.Id == "b/3.png")
                {
                    File.WriteAllBytes(Path.Combine(input, "b", "3.png"), other);
                }
            },
        };

        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => RunAsync(source, "a"));

        Assert.Contains("b/3.png: changed since this output's inputs were validated", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, source.Reads["b/3.png"]);
        Assert.All(source.Reads.Where(r => r.Key != "b/3.png"), r => Assert.Equal(1, r.Value));
    }
}
