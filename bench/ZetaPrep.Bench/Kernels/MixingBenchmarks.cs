using BenchmarkDotNet.Attributes;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Bench.Kernels;

/// <summary>ζ weights, plan building and the W@X mix of one batch of 64 images at 224² (CPU: sparse kernel and TorchSharp).</summary>
[MemoryDiagnoser]
public class MixingBenchmarks
{
    private const int Pixels = BenchInputs.Size * BenchInputs.Size * 3;
    private readonly double[] _weights = new double[BenchInputs.Batch];
    private byte[] _x = [];
    private byte[] _y = [];
    private float[] _w = [];
    private SparseCpuMixer? _sparse;
    private TorchMixer? _torch;

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureLoaded();
        _x = BenchInputs.Noise(BenchInputs.Batch * Pixels, 1);
        _y = new byte[BenchInputs.Batch * Pixels];
        var plan = MixPlan.Create(BenchInputs.Batch, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), BenchInputs.Batch));
        _w = plan.Batches[0].PixelWeightMatrix();
        _sparse = new SparseCpuMixer(BenchInputs.Batch, Pixels);
        _torch = new TorchMixer(TorchRuntime.ResolveDevice(DeviceChoice.Cpu), BenchInputs.Batch, Pixels);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sparse?.Dispose();
        _torch?.Dispose();
    }

    /// <summary>The ζ weights of ranks 1..64 at γ = 2.8 (normaliser included).</summary>
    [Benchmark]
    public double ZetaWeights64()
    {
        ZetaWeights.ForRanks(2.8, _weights);
        return _weights[0];
    }

    /// <summary>The whole plan for 10,000 inputs: shuffle, batches of 64, N = 8 recipes per output.</summary>
    [Benchmark]
    public int Plan10k() =>
        MixPlan.Create(10_000, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), BenchInputs.Batch, seed: 1)).Batches.Count;

    /// <summary>64 outputs from 64 inputs, N = 8 non-zero weights per row (the default CPU path).</summary>
    [Benchmark]
    public void SparseCpuMix64() => _sparse!.Mix(_x, BenchInputs.Batch, _w, BenchInputs.Batch, _y);

    /// <summary>The same mix as a dense 64×64 @ 64×150528 TorchSharp matmul on the CPU.</summary>
    [Benchmark]
    public void TorchCpuMix64() => _torch!.Mix(_x, BenchInputs.Batch, _w, BenchInputs.Batch, _y);
}
