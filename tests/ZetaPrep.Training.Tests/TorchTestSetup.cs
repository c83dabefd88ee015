using System.Runtime.CompilerServices;
using ZetaPrep.Mixing;

namespace ZetaPrep.Training.Tests;

/// <summary>Loads libtorch before any test touches <c>torch</c>: a failed torch static constructor cannot be retried (FACTS.md §1).</summary>
internal static class TorchTestSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.RegisterAssembly(typeof(TorchSharp.torchvision).Assembly);
    }
}
