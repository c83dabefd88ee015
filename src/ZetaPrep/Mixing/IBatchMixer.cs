namespace ZetaPrep.Mixing;

/// <summary>out = W @ X over a batch of uint8 images: float32 mix, round half to even, clamp to 0..255.</summary>
public interface IBatchMixer : IDisposable
{
    /// <summary>"cpu" or "cuda".</summary>
    string DeviceName { get; }

    /// <summary>
    /// Buffers to decode a batch into and encode it from (rows of pixelsPerImage bytes, room for the mixer's maximum
    /// batch): passing them to <see cref="Mix"/> spares the host copies (the CUDA mixer's are page-locked for the
    /// driver's asynchronous transfers). Null when the mixer works on any memory equally well.
    /// </summary>
    (byte[] Inputs, byte[] Outputs)? Staging => null;

    /// <summary>
    /// Whether <see cref="Mix"/> may be given the inputs' own memory as its output (as many outputs as inputs): each
    /// output row then replaces the input row of its index, and the batch needs one pixel buffer instead of two.
    /// </summary>
    bool MixesInPlace => false;

    /// <summary>
    /// Mixes <paramref name="inputCount"/> images (rows of <paramref name="inputs"/>) with the row-major
    /// [<paramref name="outputCount"/> × <paramref name="inputCount"/>] <paramref name="weights"/> into <paramref name="output"/>.
    /// </summary>
    void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output);
}
