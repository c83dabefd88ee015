using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>How many started batches may queue for the shard writer: bounded by their buffers' bytes.</summary>
public sealed class BatchesAheadTests
{
    private static int Ahead(int size, int batch = 32, int pngLevel = PngEncoder.DefaultLevel, bool keepOriginals = false)
    {
        var plan = new PlanOptions(MixCount.Of(Math.Min(8, batch)), GammaSpec.Fixed(2.8), batchSize: batch, keepOriginals: keepOriginals) { ImageSize = size };
        var options = new GenerateOptions { OutputDirectory = "out", Plan = plan, Size = size, PngLevel = pngLevel };
        return DatasetGenerator.BatchesAhead(MixPlan.Create(4000, plan), options);
    }

    [Fact]
    public void LargeBatches_QueueOne_SmallOnes_UpToTheirBytes()
    {
        // 224²: 33 inputs × 150,528 B of pixels + 33 rows × a worst-case PNG slot ≈ 10 MB, over the 8 MiB: one, as before.
        Assert.Equal(1, Ahead(224));
        Assert.Equal(1, Ahead(512, batch: 4));
        // 28²: ~5 KB per input and row, ~155 KB a batch: 54 (32 queued already took 64,000 such images on 2 threads from
        // ~1.7 to ~1.1 s in their batches); 16²: the cap.
        Assert.InRange(Ahead(28), 32, DatasetGenerator.MaxBatchesAhead);
        Assert.Equal(DatasetGenerator.MaxBatchesAhead, Ahead(16, batch: 2));
        // 96²: 33 × 27,648 B twice over ≈ 1.8 MB: 4 of them in 8 MiB.
        var bytes96 = (33L * 96 * 96 * 3) + (33L * PngEncoder.MaxLength(96, 96));
        Assert.Equal((int)(DatasetGenerator.AheadBytes / bytes96), Ahead(96));
        Assert.InRange(Ahead(96), 2, 8);
    }

    [Fact]
    public void RowsBeyondInputs_AndPngSlots_Count()
    {
        // --keep-originals doubles a batch's rows (and PNG slots); another --png-level has no pooled PNG buffer.
        Assert.True(Ahead(96, keepOriginals: true) < Ahead(96));
        Assert.True(Ahead(96, pngLevel: 6) > Ahead(96));
    }
}
