namespace ZetaPrep.Training;

/// <summary>One decoded validation image: row-major RGB24 pixels (size² × 3 bytes) and its class index.</summary>
public sealed record LabelledImage(byte[] Rgb, int ClassIndex);
