namespace ZetaPrep.Mixing;

/// <summary>out = W @ X over a batch of uint8 images: float32 mix, round half to even, clamp to 0..255.</summary>
public interface IBatchMixer : IDisposable
{
    /// <summary>"cpu" or "cuda".</summary>
    string DeviceName { get; }

    /// <summary>
    /// Mixes <paramref name="inputCount"/> images (rows of <paramref name="inputs"/>) with the row-major
    /// [<paramref name="outputCount"/> × <paramref name="inputCount"/>] <paramref name="weights"/> into <paramref name="output"/>.
    /// </summary>
    void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output);
}
