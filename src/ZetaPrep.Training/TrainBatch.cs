namespace ZetaPrep.Training;

/// <summary>A decoded training batch: <c>Count</c> images as NHWC RGB24 bytes and their soft labels (Count × classes).</summary>
internal sealed record TrainBatch(long Index, int Count, byte[] Pixels, float[] Labels);
