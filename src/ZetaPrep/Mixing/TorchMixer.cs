using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ZetaPrep.Mixing;

/// <summary>
/// The mixing kernel <c>out = W @ X</c> on uint8 images: widen to float32, multiply, round half to even, clamp to 0..255.
/// </summary>
/// <remarks>
/// All tensors are allocated once and reused (FACTS.md §1: a preallocated output halves the matmul time); spans are
/// copied straight into the CPU tensors' native memory through <see cref="Tensor.bytes"/>, which is one memcpy and
/// cheaper than building a tensor per call from an array. <see cref="Mix"/> is thread-safe by serialising callers:
/// libtorch already spreads one matmul over its intra-op threads, so concurrent calls would gain nothing.
/// The result does not depend on the intra-op thread count (tested), so outputs are reproducible on any machine
/// with the same libtorch build.
/// </remarks>
public sealed class TorchMixer : IBatchMixer
{
    private readonly Lock gate = new();
    private readonly Device device;
    private readonly bool onCpu;
    private readonly int maxInputs;
    private readonly int pixels;
    private readonly List<Tensor> owned = [];

    // Flat buffers; a call uses a prefix viewed as [rows, columns], which stays contiguous.
    private readonly Tensor hostInputs;
    private readonly Tensor deviceInputs;
    private readonly Tensor floatInputs;
    private int outputCapacity;
    private Tensor hostWeights = null!;
    private Tensor deviceWeights = null!;
    private Tensor floatOutputs = null!;
    private Tensor deviceOutputs = null!;
    private Tensor hostOutputs = null!;
    private bool disposed;

    /// <summary>Allocates buffers for up to <paramref name="maxInputs"/> images of <paramref name="pixelsPerImage"/> bytes each (e.g. 224·224·3).</summary>
    public TorchMixer(Device device, int maxInputs, int pixelsPerImage)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixelsPerImage, 1);

        // Tensor.bytes exposes at most int.MaxValue bytes.
        if ((long)maxInputs * pixelsPerImage * sizeof(float) > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(maxInputs), "maxInputs × pixelsPerImage × 4 must stay below 2 GiB");
        }

        TorchRuntime.EnsureLoaded();
        this.device = device;
        onCpu = device.type == DeviceType.CPU;
        this.maxInputs = maxInputs;
        pixels = pixelsPerImage;

        var inputBytes = (long)maxInputs * pixelsPerImage;
        hostInputs = Own(empty(inputBytes, ScalarType.Byte, CPU));
        deviceInputs = onCpu ? hostInputs : Own(empty(inputBytes, ScalarType.Byte, device));
        floatInputs = Own(empty(inputBytes, ScalarType.Float32, device));
        AllocateOutputs(maxInputs);
    }

    /// <summary>"cpu" or "cuda".</summary>
    public string DeviceName => onCpu ? "cpu" : device.type == DeviceType.CUDA ? "cuda" : device.type.ToString().ToUpperInvariant();

    /// <summary>
    /// Mixes <paramref name="inputCount"/> images (rows of pixelsPerImage bytes) with a dense row-major
    /// outputCount × inputCount float32 weight matrix into <paramref name="outputCount"/> images.
    /// </summary>
    public void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output)
    {
        MixArguments.Check(inputs, inputCount, maxInputs, weights, outputCount, output, pixels);
        var inputBytes = (long)inputCount * pixels;
        var outputBytes = (long)outputCount * pixels;
        var weightCount = (long)outputCount * inputCount;

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (outputCount > outputCapacity)
            {
                AllocateOutputs(outputCount);
            }

            // Views made here (narrow/view) are handles only; the scope frees them, the buffers stay.
            using var scope = NewDisposeScope();
            inputs.CopyTo(hostInputs.bytes);
            MemoryMarshal.AsBytes(weights).CopyTo(hostWeights.bytes);

            var x8 = deviceInputs.narrow(0, 0, inputBytes);
            if (!onCpu)
            {
                x8.copy_(hostInputs.narrow(0, 0, inputBytes));
            }

            var x = floatInputs.narrow(0, 0, inputBytes);
            x.copy_(x8);

            var w = deviceWeights.narrow(0, 0, weightCount);
            if (!onCpu)
            {
                w.copy_(hostWeights.narrow(0, 0, weightCount));
            }

            var y = floatOutputs.narrow(0, 0, outputBytes).view(outputCount, pixels);

            // beta = 0: y's previous contents are ignored (not even NaN propagates), so no zeroing pass is needed.
            y.addmm_(w.view(outputCount, inputCount), x.view(inputCount, pixels), beta: 0, alpha: 1);

            // torch.round is round-half-to-even; values are integral in 0..255 afterwards, so the uint8 cast is exact.
            y.round_().clamp_(0, 255);
            var y8 = deviceOutputs.narrow(0, 0, outputBytes);
            y8.copy_(y.view(outputBytes));
            if (!onCpu)
            {
                hostOutputs.narrow(0, 0, outputBytes).copy_(y8);
            }

            hostOutputs.bytes[..(int)outputBytes].CopyTo(output);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            foreach (var tensor in owned)
            {
                tensor.Dispose();
            }

            owned.Clear();
        }
    }

    private void AllocateOutputs(int capacity)
    {
        if (outputCapacity > 0)
        {
            // On CPU the host and device buffers are the same object; Tensor.Equals compares values, so match by reference.
            foreach (var tensor in new[] { hostWeights, deviceWeights, floatOutputs, deviceOutputs, hostOutputs })
            {
                if (owned.RemoveAll(t => ReferenceEquals(t, tensor)) > 0)
                {
                    tensor.Dispose();
                }
            }
        }

        var weightCount = (long)capacity * maxInputs;
        var outputBytes = (long)capacity * pixels;
        if (outputBytes * sizeof(float) > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "outputCount × pixelsPerImage × 4 must stay below 2 GiB");
        }

        hostWeights = Own(empty(weightCount, ScalarType.Float32, CPU));
        deviceWeights = onCpu ? hostWeights : Own(empty(weightCount, ScalarType.Float32, device));
        floatOutputs = Own(empty(outputBytes, ScalarType.Float32, device));
        hostOutputs = Own(empty(outputBytes, ScalarType.Byte, CPU));
        deviceOutputs = onCpu ? hostOutputs : Own(empty(outputBytes, ScalarType.Byte, device));
        outputCapacity = capacity;
    }

    private Tensor Own(Tensor tensor)
    {
        // The mixer outlives any dispose scope its creator may be in.
        tensor.DetachFromDisposeScope();
        owned.Add(tensor);
        return tensor;
    }
}
