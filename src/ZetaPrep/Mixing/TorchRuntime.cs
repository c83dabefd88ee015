using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace ZetaPrep.Mixing;

/// <summary>
/// Owns loading of libtorch and TorchSharp's native shim; call <see cref="EnsureLoaded"/> before anything touches <c>torch</c>.
/// </summary>
/// <remarks>
/// <para>On Debian 12 the shim <c>libLibTorchSharp.so</c> asks for GLIBCXX_3.4.32, which the system libstdc++ lacks;
/// a failed <c>torch</c> static constructor cannot be retried and makes TorchSharp copy ~478 MB of package files.
/// So, when the shim does not load as shipped, a copy with that single version need marked weak is loaded
/// instead (see <see cref="ElfVersionWeakener"/>, FACTS.md §1) and handed to TorchSharp through a DllImport resolver.</para>
/// <para>CUDA without code changes: set the environment variable <c>ZETAPREP_LIBTORCH_DIR</c> to the <c>lib</c>
/// directory of a CUDA libtorch of the same version as TorchSharp's shim (2.10); its libc10, libc10_cuda,
/// libtorch_cpu, libtorch_cuda and libtorch are preloaded by full path instead of the bundled CPU ones.
/// Run from a publish that leaves the bundled CPU libtorch out: TorchSharp's own probing would load a second
/// libtorch_cpu.so found next to TorchSharp.dll and abort the process, so that layout is refused with an error. Alternatively build with <c>-p:LibTorchPackage=…</c> (Directory.Build.props).</para>
/// </remarks>
public static class TorchRuntime
{
    /// <summary>Environment variable naming a libtorch <c>lib</c> directory (e.g. CUDA libtorch 2.10) to load instead of the bundled one.</summary>
    public const string LibTorchDirVariable = "ZETAPREP_LIBTORCH_DIR";

    private const string ShimName = "LibTorchSharp";
    private const string ShimFile = "libLibTorchSharp.so";

    private static readonly Lock Gate = new();
    private static readonly HashSet<string> ResolvedAssemblies = new(StringComparer.Ordinal);
    private static bool loaded;
    private static IntPtr shimHandle;

    /// <summary>Loads libtorch and the TorchSharp shim once per process (idempotent, thread-safe).</summary>
    /// <exception cref="ZetaPrepException">The native libraries cannot be found or loaded.</exception>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded)
            {
                return;
            }

            if (OperatingSystem.IsLinux())
            {
                LoadOnLinux();
            }

            // NNPACK: where it cannot initialize (CPUs its cpuinfo does not know, as on this VM) libtorch tries again and
            // logs "Could not initialize NNPACK! Reason: Unsupported hardware." at every convolution that consults it
            // (each one of a validation batch of one image: 950 lines for evaluate --batch-size 1, QA); where it does,
            // such convolutions take another algorithm than on other machines. Off, convolutions go to oneDNN or ATen's
            // own kernels everywhere, as PyTorch's torch.backends.nnpack.set_flags(False) does.
            _ = SwapContextFlag("NNPACK", false);
            loaded = true;
        }
    }

    /// <summary>
    /// Routes an assembly's <c>LibTorchSharp</c> imports to the loaded shim (e.g. TorchVision's THSVision_* calls).
    /// Safe to call more than once per assembly; the TorchSharp assembly is registered by <see cref="EnsureLoaded"/>.
    /// </summary>
    public static void RegisterAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        EnsureLoaded();
        lock (Gate)
        {
            RegisterLocked(assembly);
        }
    }

    /// <summary>The torch device for a <c>--device</c> choice: auto picks CUDA when available.</summary>
    /// <exception cref="ZetaPrepException">CUDA was asked for but is not available (exit code 2).</exception>
    public static torch.Device ResolveDevice(DeviceChoice choice)
    {
        EnsureLoaded();
        return choice switch
        {
            DeviceChoice.Cpu => torch.CPU,
            DeviceChoice.Auto => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            DeviceChoice.Cuda when torch.cuda.is_available() => torch.CUDA,
            DeviceChoice.Cuda => throw ZetaPrepException.Usage(
                "--device cuda: CUDA is not available (this build loads the CPU libtorch; set "
                + LibTorchDirVariable + " to a CUDA libtorch 2.10 lib directory, or use --device cpu/auto)"),
            _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, null),
        };
    }

    /// <summary>
    /// Turns libtorch's oneDNN (MKL-DNN) CPU kernels on or off for the whole process (<c>at::globalContext()</c>'s
    /// <c>setUserEnabledMkldnn</c>, what PyTorch's <c>torch.backends.mkldnn.enabled</c> sets; TorchSharp does not wrap it).
    /// Returns the setting it replaced, or null where the loaded libtorch does not export these calls.
    /// </summary>
    public static bool? SwapMkldnn(bool enabled)
    {
        EnsureLoaded();
        return SwapContextFlag("Mkldnn", enabled);
    }

    /// <summary>
    /// Sets <c>at::globalContext().setUserEnabled{name}</c> (Mkldnn, NNPACK) and returns the value it replaced; null where
    /// libtorch is not loaded as libtorch_cpu.so or does not export the calls (their Itanium-mangled names).
    /// </summary>
    private static unsafe bool? SwapContextFlag(string name, bool enabled)
    {
        if (!TryContext(out var libtorch, out var context) || ContextFlag(libtorch, context, name) is not { } was
            || !TryContextCall(libtorch, $"setUserEnabled{name}", "Eb", out var setEnabled))
        {
            return null;
        }
        ((delegate* unmanaged<IntPtr, byte, void>)setEnabled)(context, enabled ? (byte)1 : (byte)0);
        return was;
    }

    /// <summary><c>at::globalContext().userEnabled{name}()</c>, or null where libtorch does not export it.</summary>
    internal static bool? ContextFlag(string name) =>
        TryContext(out var libtorch, out var context) ? ContextFlag(libtorch, context, name) : null;

    private static unsafe bool? ContextFlag(IntPtr libtorch, IntPtr context, string name) =>
        TryContextCall(libtorch, $"userEnabled{name}", "Ev", out var getEnabled, constant: true)
            ? ((delegate* unmanaged<IntPtr, byte>)getEnabled)(context) != 0
            : null;

    /// <summary>libtorch_cpu.so and its <c>at::globalContext()</c>, where both can be had.</summary>
    private static unsafe bool TryContext(out IntPtr libtorch, out IntPtr context)
    {
        context = IntPtr.Zero;
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out libtorch)
            || !NativeLibrary.TryGetExport(libtorch, "_ZN2at13globalContextEv", out var globalContext))
        {
            return false;
        }
        context = ((delegate* unmanaged<IntPtr>)globalContext)();
        return true;
    }

    private static bool TryContextCall(IntPtr libtorch, string method, string parameters, out IntPtr address, bool constant = false) =>
        NativeLibrary.TryGetExport(libtorch, string.Create(CultureInfo.InvariantCulture, $"_ZN{(constant ? "K" : "")}2at7Context{method.Length}{method}{parameters}"), out address);

    /// <summary>One line for the CLI <c>info</c> verb, e.g. "libtorch 2.10.0 (TorchSharp 0.107.0), cuda: no".</summary>
    public static string Describe()
    {
        EnsureLoaded();
        var torchSharp = typeof(torch).Assembly;
        var version = torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? torchSharp.GetName().Version?.ToString() ?? "?";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            version = version[..plus];
        }

        // TorchSharp reports the libtorch package version (2.10.0.0); the fourth part is NuGet packaging, not libtorch.
        var libtorch = torch.__version__;
        if (libtorch.Count(c => c == '.') == 3 && libtorch.EndsWith(".0", StringComparison.Ordinal))
        {
            libtorch = libtorch[..^2];
        }

        var cuda = torch.cuda.is_available() ? $"yes ({torch.cuda.device_count()} device(s))" : "no";
        var dir = Environment.GetEnvironmentVariable(LibTorchDirVariable);
        var from = string.IsNullOrEmpty(dir) ? "" : $", from {dir}";
        return $"libtorch {libtorch} (TorchSharp {version}), cuda: {cuda}{from}";
    }

    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty Location (native AOT) falls back to AppContext.BaseDirectory.")]
    private static void LoadOnLinux()
    {
        var torchSharp = typeof(torch).Assembly;
        // Empty in the native-AOT tool (no assembly files): the shim then sits next to the executable, in the base directory.
        var shimDir = Path.GetDirectoryName(torchSharp.Location);
        if (string.IsNullOrEmpty(shimDir) || !File.Exists(Path.Combine(shimDir, ShimFile)))
        {
            shimDir = AppContext.BaseDirectory;
        }

        var shimPath = Path.Combine(shimDir, ShimFile);
        if (!File.Exists(shimPath))
        {
            throw new ZetaPrepException($"{ShimFile} not found next to TorchSharp.dll or in {AppContext.BaseDirectory}; reference the TorchSharp package with RuntimeIdentifier linux-x64");
        }

        var libTorchDir = Environment.GetEnvironmentVariable(LibTorchDirVariable);
        var external = !string.IsNullOrEmpty(libTorchDir);
        if (external && !Directory.Exists(libTorchDir))
        {
            throw new ZetaPrepException($"{LibTorchDirVariable}={libTorchDir} is not a directory; point it at a libtorch 2.10 lib directory or unset it");
        }

        if (external)
        {
            RefuseSecondLibTorch(shimDir, libTorchDir!);

            // The shim's libtorch needs resolve by soname to these already-loaded libraries.
            PreloadLibTorch(libTorchDir!, cuda: true);
        }

        string firstError;
        try
        {
            // Newer distros: the shipped shim loads as is and TorchSharp's own probing finds it; nothing more to do.
            NativeLibrary.Load(shimPath);
            return;
        }
        catch (DllNotFoundException ex)
        {
            firstError = ex.Message;
        }

        var patchedPath = WritePatchedShim(shimPath, firstError);
        if (!external)
        {
            // The copy may live in a cache dir, where the shim's RUNPATH ($ORIGIN) finds nothing.
            PreloadLibTorch(shimDir, cuda: false);
        }

        try
        {
            shimHandle = NativeLibrary.Load(patchedPath);
        }
        catch (DllNotFoundException ex)
        {
            throw new ZetaPrepException($"cannot load TorchSharp's native shim: {ex.Message} (unpatched: {firstError})", ex);
        }

        RegisterLocked(torchSharp);

        // TorchVision has no native library of its own: its THSVision_* imports live in the same shim.
        // Load it by name so an app that references it (the trainer) is covered without calling RegisterAssembly.
        // (Assembly.Load returns the copy already loaded; enumerating the AppDomain's assemblies instead would read the
        // names of satellite resource assemblies, which a native-AOT build cannot parse in invariant-globalization mode.)
        Assembly? torchVision = null;
        try
        {
            torchVision = Assembly.Load(new AssemblyName("TorchVision"));
        }
        catch (FileNotFoundException)
        {
            // Not referenced by this application.
        }

        if (torchVision is not null)
        {
            RegisterLocked(torchVision);
        }
    }

    /// <summary>
    /// TorchSharp itself probes for torch_cpu/torch_cuda next to TorchSharp.dll; finding the bundled copy there would
    /// map a second libtorch whose static initialisers abort the process ("Tried to register multiple backend
    /// fallbacks"), which no exception handler can catch. So refuse that layout up front.
    /// </summary>
    private static void RefuseSecondLibTorch(string shimDir, string libTorchDir)
    {
        if (string.Equals(Path.GetFullPath(shimDir).TrimEnd('/'), Path.GetFullPath(libTorchDir).TrimEnd('/'), StringComparison.Ordinal))
        {
            return;
        }

        foreach (var name in new[] { "libtorch_cpu.so", "libtorch_cuda.so" })
        {
            var bundled = Path.Combine(shimDir, name);
            if (File.Exists(bundled))
            {
                throw new ZetaPrepException(
                    $"{LibTorchDirVariable} is set, but {bundled} is also present and TorchSharp would load both copies of libtorch; "
                    + "run from a publish without the bundled libtorch (delete libtorch*.so and libc10.so there) or unset " + LibTorchDirVariable);
            }
        }
    }

    private static void PreloadLibTorch(string dir, bool cuda)
    {
        string[] names = cuda
            ? ["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"]
            : ["libc10.so", "libtorch_cpu.so", "libtorch.so"];
        foreach (var name in names)
        {
            var path = Path.Combine(dir, name);
            var optional = name.Contains("cuda", StringComparison.Ordinal);
            if (!File.Exists(path))
            {
                if (optional)
                {
                    continue;
                }

                throw new ZetaPrepException($"{path} not found; {(cuda ? $"{LibTorchDirVariable} must name a libtorch 2.10 lib directory" : "the libtorch-cpu-linux-x64 package files are missing from the build output")}");
            }

            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException ex)
            {
                throw new ZetaPrepException($"cannot load {path}: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Writes (or reuses) the weakened shim next to the original, else in the user cache dir; returns its path.</summary>
    private static string WritePatchedShim(string shimPath, string? loadError)
    {
        var original = File.ReadAllBytes(shimPath);
        byte[] patched;
        try
        {
            patched = ElfVersionWeakener.Weaken(original);
        }
        catch (InvalidDataException ex)
        {
            throw new ZetaPrepException($"{shimPath} does not load ({loadError}) and cannot be patched: {ex.Message}", ex);
        }

        // Keyed by the original's hash, so a package upgrade never reuses a stale copy.
        var key = Convert.ToHexStringLower(SHA256.HashData(original).AsSpan(0, 8));
        var fileName = $"libLibTorchSharp.glibcxx-weak-{key}.so";
        var shimDir = Path.GetDirectoryName(shimPath)!;
        foreach (var dir in new[] { shimDir, CacheDir() })
        {
            var target = Path.Combine(dir, fileName);
            if (IsCopyOf(target, patched) || TryWriteAtomically(target, patched))
            {
                return target;
            }
        }

        throw new ZetaPrepException($"cannot write a patched copy of {shimPath} next to it or in {CacheDir()}; make one of them writable");
    }

    private static string CacheDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "zetaprep");
    }

    private static bool IsCopyOf(string path, byte[] expected)
    {
        try
        {
            return File.Exists(path) && new FileInfo(path).Length == expected.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryWriteAtomically(string path, byte[] bytes)
    {
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            // Rename is atomic, so a concurrent process sees either no file or a complete one.
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing left to do: the temp name is unique and never loaded.
            }

            return false;
        }
    }

    private static void RegisterLocked(Assembly assembly)
    {
        // SetDllImportResolver throws on a second call for the same assembly.
        if (shimHandle == IntPtr.Zero || !ResolvedAssemblies.Add(assembly.FullName ?? assembly.GetName().Name ?? ""))
        {
            return;
        }

        var handle = shimHandle;
        NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
            string.Equals(name, ShimName, StringComparison.Ordinal) ? handle : IntPtr.Zero);
    }
}
