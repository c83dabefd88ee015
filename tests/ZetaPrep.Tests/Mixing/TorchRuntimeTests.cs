using TorchSharp;
using ZetaPrep.Mixing;

namespace ZetaPrep.Tests.Mixing;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Torch_works_in_the_test_host()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(1, torch.rand(1).numel());
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, a.matmul(b).data<float>().ToArray());
    }

    [Fact]
    public void EnsureLoaded_is_idempotent_and_thread_safe()
    {
        Parallel.For(0, 8, _ => TorchRuntime.EnsureLoaded());
        using var scope = torch.NewDisposeScope();
        Assert.Equal(6f, torch.ones(2, 3).sum().item<float>());
    }

    [Fact]
    public void Loading_turns_NNPACK_off_and_reads_libtorchs_context_flags()
    {
        // Where NNPACK cannot initialize (this VM), libtorch logged a warning at every convolution that consulted it.
        TorchRuntime.EnsureLoaded();
        Assert.False(TorchRuntime.ContextFlag("NNPACK"));
        Assert.NotNull(TorchRuntime.ContextFlag("Mkldnn"));
        Assert.Null(TorchRuntime.ContextFlag("NoSuchBackend"));
    }

    [Fact]
    public void RegisterAssembly_twice_does_not_throw()
    {
        TorchRuntime.RegisterAssembly(typeof(torch).Assembly);
        TorchRuntime.RegisterAssembly(typeof(torch).Assembly);
    }

    [Fact]
    public void ResolveDevice_cpu_and_auto()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice(DeviceChoice.Cpu).type);
        var expected = torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, TorchRuntime.ResolveDevice(DeviceChoice.Auto).type);
    }

    [Fact]
    public void ResolveDevice_cuda_without_cuda_is_a_usage_error()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, TorchRuntime.ResolveDevice(DeviceChoice.Cuda).type);
            return;
        }

        var ex = Assert.Throws<ZetaPrepException>(() => TorchRuntime.ResolveDevice(DeviceChoice.Cuda));
        Assert.Equal(2, ex.ExitCode);
        Assert.Contains("--device cuda", ex.Message, StringComparison.Ordinal);
        Assert.Contains(TorchRuntime.LibTorchDirVariable, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_names_versions_and_cuda()
    {
        var text = TorchRuntime.Describe();
        Assert.StartsWith("libtorch 2.10", text, StringComparison.Ordinal);
        Assert.Contains("TorchSharp 0.107", text, StringComparison.Ordinal);
        Assert.Contains("cuda: ", text, StringComparison.Ordinal);
    }
}
