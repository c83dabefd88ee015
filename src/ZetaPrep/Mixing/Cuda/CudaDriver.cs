using System.Runtime.InteropServices;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// The few CUDA driver API calls the GPU mixer needs, bound to <c>libcuda.so.1</c> (installed with the NVIDIA driver;
/// no CUDA toolkit, cuBLAS or CUDA libtorch is needed). <see cref="TryOpen"/> is the only entry point: it loads the
/// library, initialises the driver and retains device 0's primary context once per process.
/// </summary>
internal static unsafe class CudaDriver
{
    private const string Library = "libcuda.so.1";
    private static readonly Lock Gate = new();
    private static CudaDevice? _device;
    private static string? _failure;
    private static bool _probed;

    /// <summary>Device 0 with its primary context, or null with <paramref name="why"/> saying what is missing.</summary>
    public static CudaDevice? TryOpen(out string why)
    {
        lock (Gate)
        {
            if (!_probed)
            {
                _probed = true;
                try
                {
                    _device = Open();
                }
                catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException)
                {
                    _failure = e is CudaException ? e.Message : $"the NVIDIA driver library {Library} could not be loaded";
                }
            }
            why = _failure ?? "";
            return _device;
        }
    }

    private static CudaDevice Open()
    {
        if (!NativeLibrary.TryLoad(Library, out _))
        {
            throw new CudaException($"the NVIDIA driver library {Library} is not installed");
        }

        Check(cuInit(0), "cuInit");
        int count;
        Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (count == 0)
        {
            throw new CudaException("the NVIDIA driver found no CUDA device");
        }

        int device;
        Check(cuDeviceGet(&device, 0), "cuDeviceGet");
        int major, minor, driverVersion;
        Check(cuDeviceGetAttribute(&major, 75, device), "cuDeviceGetAttribute"); // COMPUTE_CAPABILITY_MAJOR
        Check(cuDeviceGetAttribute(&minor, 76, device), "cuDeviceGetAttribute"); // COMPUTE_CAPABILITY_MINOR
        Check(cuDriverGetVersion(&driverVersion), "cuDriverGetVersion");
        int multiprocessors, sharedOptIn;
        Check(cuDeviceGetAttribute(&multiprocessors, 16, device), "cuDeviceGetAttribute"); // MULTIPROCESSOR_COUNT
        Check(cuDeviceGetAttribute(&sharedOptIn, 97, device), "cuDeviceGetAttribute"); // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        var name = stackalloc byte[256];
        Check(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        nuint totalMemory;
        Check(cuDeviceTotalMem_v2(&totalMemory, device), "cuDeviceTotalMem");
        IntPtr context;
        Check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        return new CudaDevice(context, Marshal.PtrToStringUTF8((IntPtr)name) ?? "CUDA device", major, minor,
            driverVersion / 1000, driverVersion % 1000 / 10, (long)totalMemory, multiprocessors, sharedOptIn);
    }

    /// <summary>Throws <see cref="CudaException"/> with the driver's name and description of a non-zero result.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0)
        {
            return;
        }

        byte* name = null, text = null;
        _ = cuGetErrorName(result, &name);
        _ = cuGetErrorString(result, &text);
        throw new CudaException($"{call} failed: {(name == null ? $"CUDA error {result}" : Marshal.PtrToStringUTF8((IntPtr)name))}"
            + (text == null ? "" : $" ({Marshal.PtrToStringUTF8((IntPtr)text)})"));
    }

    // Signatures from cuda.h (CUDA 12/13; the _v2 names are the ones cuda.h maps the plain names to).
    [DllImport(Library)] public static extern int cuInit(uint flags);
    [DllImport(Library)] public static extern int cuDriverGetVersion(int* version);
    [DllImport(Library)] public static extern int cuDeviceGetCount(int* count);
    [DllImport(Library)] public static extern int cuDeviceGet(int* device, int ordinal);
    [DllImport(Library)] public static extern int cuDeviceGetName(byte* name, int length, int device);
    [DllImport(Library)] public static extern int cuDeviceGetAttribute(int* value, int attribute, int device);
    [DllImport(Library)] public static extern int cuDeviceTotalMem_v2(nuint* bytes, int device);
    [DllImport(Library)] public static extern int cuDevicePrimaryCtxRetain(IntPtr* context, int device);
    [DllImport(Library)] public static extern int cuCtxSetCurrent(IntPtr context);
    [DllImport(Library)] public static extern int cuGetErrorName(int error, byte** name);
    [DllImport(Library)] public static extern int cuGetErrorString(int error, byte** text);
    [DllImport(Library)] public static extern int cuModuleLoadDataEx(IntPtr* module, byte* image, uint optionCount, int* options, void** values);
    [DllImport(Library)] public static extern int cuModuleGetFunction(IntPtr* function, IntPtr module, byte* name);
    [DllImport(Library)] public static extern int cuModuleUnload(IntPtr module);
    [DllImport(Library)] public static extern int cuFuncSetAttribute(IntPtr function, int attribute, int value);
    [DllImport(Library)] public static extern int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, IntPtr function, int blockSize, nuint dynamicSharedBytes);
    [DllImport(Library)] public static extern int cuMemAlloc_v2(ulong* pointer, nuint bytes);
    [DllImport(Library)] public static extern int cuMemFree_v2(ulong pointer);
    [DllImport(Library)] public static extern int cuMemHostAlloc(void** pointer, nuint bytes, uint flags);
    [DllImport(Library)] public static extern int cuMemFreeHost(void* pointer);
    [DllImport(Library)] public static extern int cuMemHostRegister_v2(void* pointer, nuint bytes, uint flags);
    [DllImport(Library)] public static extern int cuMemHostUnregister(void* pointer);
    [DllImport(Library)] public static extern int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, IntPtr stream);
    [DllImport(Library)] public static extern int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, IntPtr stream);
    [DllImport(Library)] public static extern int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, IntPtr stream);
    [DllImport(Library)] public static extern int cuMemsetD8Async(ulong destination, byte value, nuint count, IntPtr stream);
    [DllImport(Library)] public static extern int cuStreamCreate(IntPtr* stream, uint flags);
    [DllImport(Library)] public static extern int cuStreamDestroy_v2(IntPtr stream);
    [DllImport(Library)] public static extern int cuStreamSynchronize(IntPtr stream);
    [DllImport(Library)] public static extern int cuEventCreate(IntPtr* cuEvent, uint flags);
    [DllImport(Library)] public static extern int cuEventDestroy_v2(IntPtr cuEvent);
    [DllImport(Library)] public static extern int cuEventRecord(IntPtr cuEvent, IntPtr stream);
    [DllImport(Library)] public static extern int cuEventSynchronize(IntPtr cuEvent);
    [DllImport(Library)] public static extern int cuEventElapsedTime(float* milliseconds, IntPtr start, IntPtr end);

    [DllImport(Library)]
    public static extern int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, IntPtr stream, void** parameters, void** extra);
}

/// <summary>A CUDA driver call failed; the message names the call and the driver's error.</summary>
public sealed class CudaException(string message) : Exception(message);

/// <summary>
/// Device 0 as the driver reports it, with its retained primary context, its multiprocessors and the most dynamic shared
/// memory a block may opt in to.
/// </summary>
internal sealed record CudaDevice(IntPtr Context, string Name, int Major, int Minor, int DriverMajor, int DriverMinor, long TotalMemory,
    int Multiprocessors, int SharedPerBlockOptIn)
{
    /// <summary>Makes the primary context current on the calling thread (cheap; needed once per thread before any call).</summary>
    public void MakeCurrent() => CudaDriver.Check(CudaDriver.cuCtxSetCurrent(Context), "cuCtxSetCurrent");

    public override string ToString() => $"{Name} (sm_{Major}{Minor}, {TotalMemory >> 20} MiB, CUDA driver {DriverMajor}.{DriverMinor})";
}
