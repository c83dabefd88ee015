using System.Collections.Concurrent;
using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;

namespace ZetaPrep.Pipeline;

/// <summary>
/// One mixer per concurrent batch (a <see cref="CudaMixer"/> owns a stream and page-locked buffers and is
/// single-caller): batches in flight copy and mix on their own streams, overlapping each other and the decoding.
/// Until the CUDA probe has finished (driver start-up and kernel JIT take ~0.5 s on an H100) batches mix on the CPU,
/// which writes the same bytes, so no batch ever waits for the GPU.
/// </summary>
internal sealed class MixerPool(Task<CudaMixer?> cudaReady, int maxInputs, int pixels) : IDisposable
{
    private readonly ConcurrentBag<IBatchMixer> _freeCpu = [];
    private readonly ConcurrentBag<IBatchMixer> _freeCuda = [];
    private readonly ConcurrentBag<IBatchMixer> _all = [];
    private int _firstCudaTaken;

    /// <summary>Whether any batch has been mixed on the GPU.</summary>
    public bool UsedCuda { get; private set; }

    public IBatchMixer Rent()
    {
        if (cudaReady.IsCompleted)
        {
            // --device cuda: a failure after the up-front driver check (kernel JIT, allocation) ends the run here.
            var first = cudaReady.GetAwaiter().GetResult();
            if (first is not null)
            {
                UsedCuda = true;
                if (Interlocked.Exchange(ref _firstCudaTaken, 1) == 0)
                {
                    _all.Add(first);
                    return first;
                }
                if (_freeCuda.TryTake(out var free))
                {
                    return free;
                }
                var mixer = CudaMixer.TryCreate(maxInputs, pixels, out var why) ?? throw new ZetaPrepException($"CUDA mixer: {why}");
                _all.Add(mixer);
                return mixer;
            }
        }
        if (_freeCpu.TryTake(out var cpu))
        {
            return cpu;
        }
        // The sparse SIMD kernel (N non-zeros per row) beats libtorch's dense GEMM ~5× here; both give the same bytes.
        cpu = new SparseCpuMixer(maxInputs, pixels);
        _all.Add(cpu);
        return cpu;
    }

    public void Return(IBatchMixer mixer) => (mixer is CudaMixer ? _freeCuda : _freeCpu).Add(mixer);

    public void Dispose()
    {
        foreach (var mixer in _all)
        {
            mixer.Dispose();
        }
        if (Volatile.Read(ref _firstCudaTaken) == 0)
        {
            // The probe's mixer was never used (the run ended first, or failed): free it whenever the probe ends.
            _ = cudaReady.ContinueWith(t => t.Result?.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }
}
