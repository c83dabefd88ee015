using System.Buffers.Binary;
using ZetaPrep.Imaging;

namespace ZetaPrep.Pipeline;

/// <summary>
/// Bounds the memory that large PNG decodes hold at once across the run's threads. A PNG is inflated and decoded at
/// full size (JPEGs decode scaled down, so they are not counted): a 10000×10000 RGBA PNG of ~400 KB holds ~800 MB while
/// it decodes, and eight threads decoding eight of them peaked at 3.5 GB. A decode whose estimate is at least
/// <see cref="Threshold"/> waits until its estimate fits in <see cref="Budget"/> with the others in flight (one always
/// runs, however large); smaller ones pass untouched, so ordinary inputs never wait.
/// </summary>
internal sealed class DecodeMemoryGate(long budget = DecodeMemoryGate.DefaultBudget)
{
    /// <summary>The least default budget: the 1 GiB peak the tool promises at --size 224.</summary>
    public const long DefaultBudget = 1L << 30;

    /// <summary>What the default budget grows by per thread (room for every thread to decode a ~25-megapixel PNG at once).</summary>
    public const long DefaultPerThread = 256L << 20;

    /// <summary>
    /// The budget when --decode-memory is not given: <see cref="DefaultPerThread"/> per thread, at least
    /// <see cref="DefaultBudget"/> (up to 4 threads), at most a quarter of <paramref name="memory"/> (what the GC may use:
    /// the machine's, or its container's limit). At 1 GiB, 16 threads decoding 36-megapixel PNGs (~250 MB each) took
    /// 3.9 s where 4 GiB took 1.6 s (H200 machine, bench/gpu/runs/h200-2026-11-26-evening).
    /// </summary>
    public static long DefaultFor(int threads, long memory) =>
        Math.Max(DefaultBudget, Math.Min(threads * DefaultPerThread, memory / 4));

    /// <summary>Estimates under this (a ~8-megapixel RGBA PNG) pass without counting.</summary>
    public const long Threshold = 64L << 20;

    private readonly object _lock = new();
    private long _inUse;

    public long Budget => budget;

    /// <summary>The most bytes counted in flight at once (for tests).</summary>
    public long Peak { get; private set; }

    /// <summary>Bytes a PNG holds while the validation pass inflates its image data (the raw rows), 0 for other files.</summary>
    public static long ForPngCheck(ReadOnlySpan<byte> encoded) => PngRaw(encoded, out _);

    /// <summary>Bytes a PNG holds while it decodes: its raw rows plus the decoded RGBA pixels; 0 for other files.</summary>
    public static long ForPngDecode(ReadOnlySpan<byte> encoded)
    {
        var raw = PngRaw(encoded, out var pixels);
        return raw == 0 ? 0 : raw + (pixels * 4);
    }

    /// <summary>Waits until <paramref name="bytes"/> fit (clamped to the budget), counts them, and returns what uncounts them.</summary>
    public Lease Enter(long bytes)
    {
        if (bytes < Threshold)
        {
            return default;
        }
        bytes = Math.Min(bytes, budget);
        lock (_lock)
        {
            while (_inUse > 0 && _inUse + bytes > budget)
            {
                Monitor.Wait(_lock);
            }
            _inUse += bytes;
            Peak = Math.Max(Peak, _inUse);
        }
        return new Lease(this, bytes);
    }

    private void Exit(long bytes)
    {
        lock (_lock)
        {
            _inUse -= bytes;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Bytes of a PNG's unfiltered rows (a filter byte each) from its IHDR, and its pixel count; 0 when it is not a PNG.</summary>
    private static long PngRaw(ReadOnlySpan<byte> png, out long pixels)
    {
        pixels = 0;
        // Signature (8), IHDR length and type (8), width, height, bit depth, colour type.
        if (png.Length < 26 || !png.StartsWith(ImageIntegrity.PngSignature) || !png.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return 0;
        }
        double width = BinaryPrimitives.ReadUInt32BigEndian(png[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(png[20..]);
        int depth = png[24], channels = png[25] switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };
        // In doubles: a header may claim 2³²−1 on each side (the limits refuse it elsewhere; here it only must not overflow).
        pixels = (long)Math.Min(width * height, long.MaxValue / 8.0);
        return (long)Math.Min(height * (Math.Ceiling(width * channels * depth / 8) + 1), long.MaxValue / 8.0);
    }

    /// <summary>Counted bytes, uncounted on dispose; the default lease counts nothing.</summary>
    public readonly struct Lease(DecodeMemoryGate? gate, long bytes) : IDisposable
    {
        public void Dispose() => gate?.Exit(bytes);
    }
}
