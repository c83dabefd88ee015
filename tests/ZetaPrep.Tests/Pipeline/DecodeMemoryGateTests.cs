using System.Buffers.Binary;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>Large PNG decodes share one memory budget across threads; ordinary inputs never wait.</summary>
public sealed class DecodeMemoryGateTests
{
    /// <summary>The first 33 bytes of a PNG: signature and IHDR.</summary>
    private static byte[] PngHeader(uint width, uint height, byte depth, byte colourType)
    {
        var png = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(png, 0);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), height);
        (png[24], png[25]) = (depth, colourType);
        return png;
    }

    [Fact]
    public void Estimates_FollowTheIhdr_AndAreZeroForOtherFiles()
    {
        // 10000×10000 RGBA, 8 bits: rows of 1 + 40000 bytes; decoded RGBA 4 bytes a pixel.
        Assert.Equal(10_000L * 40_001, DecodeMemoryGate.ForPngCheck(PngHeader(10_000, 10_000, 8, 6)));
        Assert.Equal((10_000L * 40_001) + (4L * 100_000_000), DecodeMemoryGate.ForPngDecode(PngHeader(10_000, 10_000, 8, 6)));
        Assert.Equal(3L * (((7 * 3 * 16) + 7) / 8 + 1), DecodeMemoryGate.ForPngCheck(PngHeader(7, 3, 16, 2)));
        Assert.Equal(2L * (1 + 1), DecodeMemoryGate.ForPngCheck(PngHeader(5, 2, 1, 0))); // 1-bit grey: 5 pixels in one byte
        Assert.Equal(0, DecodeMemoryGate.ForPngDecode([0xFF, 0xD8, 0xFF, 0xE0]));
        Assert.True(DecodeMemoryGate.ForPngDecode(PngHeader(uint.MaxValue, uint.MaxValue, 16, 6)) > 0); // no overflow
    }

    [Fact]
    public void DefaultBudget_Is256MiBPerThread_AtLeast1GiB_AtMostAQuarterOfTheMemory()
    {
        const long GiB = 1L << 30;
        Assert.Equal(GiB, DecodeMemoryGate.DefaultFor(1, 64 * GiB));
        Assert.Equal(GiB, DecodeMemoryGate.DefaultFor(4, 64 * GiB));
        Assert.Equal(GiB + (256L << 20), DecodeMemoryGate.DefaultFor(5, 64 * GiB));
        Assert.Equal(4 * GiB, DecodeMemoryGate.DefaultFor(16, 128 * GiB));
        Assert.Equal(3 * GiB, DecodeMemoryGate.DefaultFor(16, 12 * GiB)); // a quarter of a 12 GiB container
        Assert.Equal(GiB, DecodeMemoryGate.DefaultFor(16, 2 * GiB)); // never under the 1 GiB the tool promises at --size 224
        Assert.Equal(64 * GiB, DecodeMemoryGate.DefaultFor(int.MaxValue, 256 * GiB)); // no overflow

        // The options give it where --decode-memory is not set, and the value given where it is.
        GenerateOptions Options(int threads, long? memory) => new() { OutputDirectory = "out", Plan = new PlanOptions(MixCount.Of(2), GammaSpec.Fixed(2.8), batchSize: 4, seed: 7), Threads = threads, DecodeMemory = memory };
        Assert.Equal(DecodeMemoryGate.DefaultFor(16, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes), Options(16, null).DecodeBudget);
        Assert.Equal(GiB, Options(2, null).DecodeBudget);
        Assert.Equal(256L << 20, Options(16, 256L << 20).DecodeBudget);
    }

    [Fact]
    public async Task LargeDecodes_WaitForRoom_SmallOnesPassAndOneAlwaysRuns()
    {
        var gate = new DecodeMemoryGate(budget: 1000L << 20);
        var big = 600L << 20;
        var first = gate.Enter(big);
        using (gate.Enter(DecodeMemoryGate.Threshold - 1)) // under the threshold: never waits, never counted
        {
        }
        var entered = new ManualResetEventSlim();
        var second = Task.Run(() =>
        {
            using (gate.Enter(big))
            {
                entered.Set();
            }
        });
        Assert.False(entered.Wait(200)); // 600 + 600 MiB do not fit in 1000
        first.Dispose();
        Assert.True(entered.Wait(10_000));
        await second;
        Assert.Equal(big, gate.Peak);

        // Larger than the whole budget: clamped, so it runs alone rather than never.
        using (gate.Enter(5000L << 20))
        {
            Assert.Equal(gate.Budget, gate.Peak);
        }
    }
}
