namespace ZetaPrep.Mixing;

/// <summary>The shape checks every <see cref="IBatchMixer"/> makes on its arguments (programming errors, not user errors).</summary>
internal static class MixArguments
{
    public static void Check(ReadOnlySpan<byte> inputs, int inputCount, int maxInputs, ReadOnlySpan<float> weights, int outputCount, ReadOnlySpan<byte> output, int pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputCount, maxInputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        if (inputs.Length != (long)inputCount * pixels)
        {
            throw new ArgumentException($"expected {(long)inputCount * pixels} input bytes ({inputCount} × {pixels}), got {inputs.Length}", nameof(inputs));
        }
        if (weights.Length != (long)outputCount * inputCount)
        {
            throw new ArgumentException($"expected {(long)outputCount * inputCount} weights ({outputCount} × {inputCount}), got {weights.Length}", nameof(weights));
        }
        if (output.Length != (long)outputCount * pixels)
        {
            throw new ArgumentException($"expected {(long)outputCount * pixels} output bytes ({outputCount} × {pixels}), got {output.Length}", nameof(output));
        }
    }
}
