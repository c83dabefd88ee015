using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// The GPU kernels for out = W @ X, through the CUDA driver API alone: one fused pass (uint8 in, weighted sum, round
/// half to even, clamp, uint8 out) that gives exactly <see cref="SparseCpuMixer"/>'s bytes. Batches whose weights are
/// <see cref="PixelWeights"/>' (the pipeline's) go to an integer kernel (sm_61 and newer, up to
/// <see cref="QuantizedKernelPtx.MaxInputs"/> inputs: on sm_80 and newer the tensor-core kernel <see cref="TensorKernelPtx"/>
/// for batches of up to <see cref="TensorInputs"/> inputs without a weight of exactly 1, else <see cref="ResidentKernelPtx"/> where the image has
/// chunks enough for its resident blocks and two tiles and the records fit a block's shared memory; else
/// <see cref="PairKernelPtx"/> where one tile and its records fit 48 KiB; else <see cref="QuantizedKernelPtx"/>); others
/// to the float kernels of
/// <see cref="MixKernelPtx"/>, which round every product and sum like the CPU kernel.
/// </summary>
/// <remarks>
/// Each instance owns a CUDA stream, page-locked (pinned) staging buffers and device buffers sized once. The pipeline
/// decodes a batch straight into <see cref="Staging"/> (other callers' spans are copied there first); a call queues the
/// weight table and the images host→device asynchronously on its stream, launches the kernel and the copy back, and
/// waits only for its own stream: the pipeline keeps one mixer per batch in flight, so one batch's copies and kernel
/// overlap other batches' and the decoding on the other threads.
/// The kernels are PTX compiled by the driver at first use, once per process.
/// </remarks>
public sealed unsafe class CudaMixer : IBatchMixer
{
    private static readonly Lock ModuleGate = new();
    private static IntPtr _module;
    private static IntPtr _quantizedModule;
    private static string? _quantizedWhy;
    private static IntPtr _pairModule;
    private static string? _pairWhy;
    private static IntPtr _residentModule;
    private static string? _residentWhy;
    private static int _residentSharedLimit;
    private static IntPtr _tensorModule;
    private static string? _tensorWhy;
    private static int _tensorSharedLimit;
    private static int _multiprocessors;
    // Blocks per multiprocessor that cuOccupancyMaxActiveBlocksPerMultiprocessor gives, per kernel and shared memory.
    private static readonly Dictionary<(string Kernel, long Shared), int> Occupancy = [];
    private static readonly Dictionary<string, IntPtr> Functions = [];

    private readonly Lock _gate = new();
    private readonly CudaDevice _device;
    private readonly int _maxInputs;
    private readonly int _pixels;
    private readonly int _stride;
    private int _outputCapacity;
    private IntPtr _stream;
    // Page-locked (registered with the driver) managed arrays on the pinned object heap: the pipeline decodes into
    // _stagingInputs and encodes from _stagingOutputs, so a Mix call copies nothing on the host.
    private byte[] _stagingInputs = [];
    private byte[] _stagingOutputs = [];
    private int* _hostTable;
    private ulong _deviceInputs;
    private ulong _deviceOutputs;
    private ulong _deviceTable;
    private bool _disposed;
    private bool _scaledTable;
    // The integer kernel's table (QuantizedMixTable), filled when every row is PixelWeights' (the pipeline's batches).
    private readonly int _quantizedStride;
    private int* _hostQuantizedTable;
    private ulong _deviceQuantizedTable;
    // The integer kernel the current table's batch takes (Kernel), or null when a row is off the grid.
    private string? _integerKernel;
    private int _quantizedRowWords;
    private int _inputCount;
    // The tensor-core kernel's table (TensorMixTable), where it loaded and takes the mixer's batches; _tensorTable says
    // whether the current batch's is written (the kernel may take it even where another one is chosen: the benchmark).
    private int* _hostTensorTable;
    private ulong _deviceTensorTable;
    private int _tensorTableCapacity;
    private bool _tensorTable;

    private CudaMixer(CudaDevice device, int maxInputs, int pixelsPerImage)
    {
        _device = device;
        _maxInputs = maxInputs;
        _pixels = pixelsPerImage;
        _stride = 1 + (2 * maxInputs);
        _quantizedStride = QuantizedMixTable.Stride(maxInputs);
        device.MakeCurrent();
        try
        {
            IntPtr stream;
            CudaDriver.Check(CudaDriver.cuStreamCreate(&stream, 1), "cuStreamCreate"); // CU_STREAM_NON_BLOCKING
            _stream = stream;
            _stagingInputs = PinnedArray((long)maxInputs * pixelsPerImage);
            _deviceInputs = DeviceAlloc((long)maxInputs * pixelsPerImage);
            AllocateOutputs(maxInputs);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A mixer on device 0, or null with <paramref name="why"/> saying why CUDA cannot be used here.</summary>
    public static CudaMixer? TryCreate(int maxInputs, int pixelsPerImage, out string why)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixelsPerImage, 1);
        var device = CudaDriver.TryOpen(out why);
        if (device is null)
        {
            return null;
        }

        try
        {
            EnsureModule(device);
            return new CudaMixer(device, maxInputs, pixelsPerImage);
        }
        catch (CudaException e)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>Whether the NVIDIA driver and a device are there (fast when not: one failed dlopen); why not if not.</summary>
    public static bool IsAvailable(out string why) => CudaDriver.TryOpen(out why) is not null;

    /// <summary>Device 0, e.g. "NVIDIA H100 80GB HBM3 (sm_90, 81559 MiB, CUDA driver 13.0)", or null without CUDA.</summary>
    public static string? Describe() => CudaDriver.TryOpen(out _)?.ToString();

    public string DeviceName => "cuda";

    /// <inheritdoc/>
    public (byte[] Inputs, byte[] Outputs)? Staging => (_stagingInputs, _stagingOutputs);

    /// <summary>
    /// The kernel a call with the current weight table launches: when image rows are 16-byte aligned, an integer one if
    /// every row is on <see cref="PixelWeights"/>' grid, it loaded and the batch fits its tile (the tensor-core kernel for
    /// small batches, the resident one, the pair kernel where its tile and records fit a block's shared memory, else
    /// <see cref="QuantizedKernelPtx"/>); else the scaled one if the
    /// table allows it (<see cref="MixKernelPtx.AllowsScaled"/>, true of ζ weights at any usual γ and N), else the plain
    /// 16-byte one; else the scalar one. All give the same bytes.
    /// </summary>
    internal string Kernel => _pixels % 16 != 0 ? MixKernelPtx.Scalar
        : _integerKernel ?? (_scaledTable ? MixKernelPtx.Scaled16 : MixKernelPtx.Vector16);

    /// <summary>Whether <paramref name="kernel"/> sums in integers (the weights on <see cref="PixelWeights"/>' grid), not floats.</summary>
    internal static bool IsInteger(string kernel) => kernel is QuantizedKernelPtx.Name or PairKernelPtx.Name or ResidentKernelPtx.Name || IsTensor(kernel);

    /// <summary>Whether <paramref name="kernel"/> is <see cref="TensorKernelPtx"/>'s (it reads <see cref="TensorMixTable"/>).</summary>
    internal static bool IsTensor(string kernel) => kernel == TensorKernelPtx.Name;

    /// <summary>
    /// Batches of up to this many inputs go to the tensor-core kernel where it takes them (<see cref="TensorKernelPtx"/>:
    /// its dense products grow with the batch, the resident kernel's sparse sums do not; docs/BENCHMARKS-gpu.md).
    /// </summary>
    internal const int TensorInputs = 32;

    /// <summary>Why the tensor-core kernel (<see cref="TensorKernelPtx"/>) is not there, or null when it is.</summary>
    internal static string? TensorUnavailable
    {
        get
        {
            lock (ModuleGate)
            {
                return _tensorWhy ?? _quantizedWhy;
            }
        }
    }

    /// <summary>
    /// The tensor-core kernel's grid for a batch (<see cref="TensorKernelPtx.Grid"/> with the blocks the device holds at
    /// once with this launch's shared memory), or 0 where it cannot take it: not loaded, more than
    /// <see cref="TensorKernelPtx.MaxInputs"/> inputs, rows not 16-byte aligned or the shared memory over the block limit.
    /// </summary>
    internal static uint TensorGrid(int pixels, int inputs, int outputs)
    {
        lock (ModuleGate)
        {
            if (_tensorModule == IntPtr.Zero || inputs > TensorKernelPtx.MaxInputs || pixels % 16 != 0)
            {
                return 0;
            }

            var shared = TensorKernelPtx.SharedBytes(inputs, outputs);
            if (shared > _tensorSharedLimit)
            {
                return 0;
            }

            return TensorKernelPtx.Grid(pixels, BlocksPerMultiprocessor(TensorKernelPtx.Name, TensorKernelPtx.BlockSize, shared), _multiprocessors);
        }
    }

    /// <summary>The device's multiprocessors, once the resident kernel loaded (else 0).</summary>
    internal static int Multiprocessors
    {
        get
        {
            lock (ModuleGate)
            {
                return _residentModule == IntPtr.Zero ? 0 : _multiprocessors;
            }
        }
    }

    /// <summary>Why the resident kernel (<see cref="ResidentKernelPtx"/>) is not there, or null when it is.</summary>
    internal static string? ResidentUnavailable
    {
        get
        {
            lock (ModuleGate)
            {
                return _residentWhy ?? _pairWhy ?? _quantizedWhy;
            }
        }
    }

    /// <summary>
    /// The resident kernel's grid for a batch (<see cref="ResidentKernelPtx.Grid"/>: as many blocks as the device holds at
    /// once with this launch's shared memory), or 0 where it does not take it: not loaded, more than
    /// <see cref="ResidentKernelPtx.MaxInputs"/> inputs, two tiles and the records over the device's per-block limit, or
    /// fewer chunks than resident blocks.
    /// </summary>
    internal static uint ResidentGrid(int pixels, int inputs, int outputs, int rowWords)
    {
        lock (ModuleGate)
        {
            if (_residentModule == IntPtr.Zero || inputs > ResidentKernelPtx.MaxInputs || pixels % 16 != 0)
            {
                return 0;
            }

            var shared = ResidentKernelPtx.SharedBytes(inputs, outputs, rowWords);
            if (shared > _residentSharedLimit)
            {
                return 0;
            }

            return ResidentKernelPtx.Grid(pixels, BlocksPerMultiprocessor(ResidentKernelPtx.Name, ResidentKernelPtx.BlockSize, shared), _multiprocessors);
        }
    }

    /// <summary>
    /// Blocks of <paramref name="kernel"/> (<paramref name="blockSize"/> threads, <paramref name="shared"/> bytes of dynamic
    /// shared memory) a multiprocessor holds at once, asked of the driver once per shape. The caller holds ModuleGate.
    /// </summary>
    private static int BlocksPerMultiprocessor(string kernel, int blockSize, long shared)
    {
        if (!Occupancy.TryGetValue((kernel, shared), out var blocks))
        {
            CudaDriver.Check(CudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, Functions[kernel], blockSize, (nuint)shared),
                "cuOccupancyMaxActiveBlocksPerMultiprocessor " + kernel);
            Occupancy[(kernel, shared)] = blocks;
        }

        return blocks;
    }

    /// <summary>Why the pair kernel (<see cref="PairKernelPtx"/>) is not there, or null when it is.</summary>
    internal static string? PairUnavailable
    {
        get
        {
            lock (ModuleGate)
            {
                return _pairWhy ?? _quantizedWhy;
            }
        }
    }

    private static bool PairReady
    {
        get
        {
            lock (ModuleGate)
            {
                return _pairModule != IntPtr.Zero;
            }
        }
    }

    /// <summary>Why the integer kernel (<see cref="QuantizedKernelPtx"/>) is not there (an older GPU, a JIT refusal), or null when it is.</summary>
    internal static string? QuantizedUnavailable
    {
        get
        {
            lock (ModuleGate)
            {
                return _quantizedWhy;
            }
        }
    }

    private static bool TensorReady
    {
        get
        {
            lock (ModuleGate)
            {
                return _tensorModule != IntPtr.Zero;
            }
        }
    }

    private static bool QuantizedReady
    {
        get
        {
            lock (ModuleGate)
            {
                return _quantizedModule != IntPtr.Zero;
            }
        }
    }

    internal IntPtr Stream => _stream;

    internal ulong DeviceInputs => _deviceInputs;

    internal ulong DeviceOutputs => _deviceOutputs;

    public void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output)
    {
        MixArguments.Check(inputs, inputCount, _maxInputs, weights, outputCount, output, _pixels);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _device.MakeCurrent();
            if (outputCount > _outputCapacity)
            {
                AllocateOutputs(outputCount);
            }

            var inputBytes = (long)inputCount * _pixels;
            var outputBytes = (long)outputCount * _pixels;
            WriteTable(weights, inputCount, outputCount);
            if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(inputs), ref _stagingInputs[0]))
            {
                inputs.CopyTo(_stagingInputs);
            }

            UploadTable(outputCount);
            fixed (byte* staged = _stagingInputs)
            {
                CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(_deviceInputs, staged, (nuint)inputBytes, _stream), "cuMemcpyHtoDAsync");
            }

            Launch(Kernel, outputCount);
            fixed (byte* staged = _stagingOutputs)
            {
                CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2(staged, _deviceOutputs, (nuint)outputBytes, _stream), "cuMemcpyDtoHAsync");
            }

            CudaDriver.Check(CudaDriver.cuStreamSynchronize(_stream), "cuStreamSynchronize");
            if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(output), ref _stagingOutputs[0]))
            {
                _stagingOutputs.AsSpan(0, (int)outputBytes).CopyTo(output);
            }
        }
    }

    /// <summary>
    /// Queues one kernel launch on this mixer's stream over what is already on the device (the benchmark times this
    /// alone; <see cref="Mix"/> surrounds it with the copies). <paramref name="inputs"/> defaults to this mixer's buffer;
    /// <paramref name="residentGrid"/>, when not 0, caps the resident kernel's blocks (the benchmark's occupancy sweep).
    /// </summary>
    internal void Launch(string kernel, int outputCount, ulong inputs = 0, uint residentGrid = 0)
    {
        var function = Function(kernel);
        var x = inputs == 0 ? _deviceInputs : inputs;
        if (IsInteger(kernel))
        {
            if (_integerKernel is null)
            {
                throw new InvalidOperationException($"{kernel} needs a weight table on the 2^-16 grid; the last one was not");
            }

            var qTable = _deviceQuantizedTable;
            var qY = _deviceOutputs;
            var qPixels = (uint)_pixels;
            var qStride = (uint)_quantizedRowWords;
            var qInputs = (uint)_inputCount;
            var qOutputs = (uint)outputCount;
            uint gridX, gridY = 1, partsShift = 0;
            int perBlock;
            long shared;
            if (IsTensor(kernel))
            {
                if (!_tensorTable)
                {
                    throw new InvalidOperationException($"{kernel} does not take this batch (a weight of 1, or over {TensorKernelPtx.MaxInputs} inputs)");
                }

                gridX = TensorGrid(_pixels, _inputCount, outputCount);
                if (gridX != 0 && residentGrid != 0)
                {
                    gridX = Math.Min(residentGrid, gridX); // the benchmark's fewer blocks per multiprocessor
                }

                if (gridX == 0)
                {
                    throw new InvalidOperationException($"{kernel} does not take this batch (shared memory)");
                }

                shared = TensorKernelPtx.SharedBytes(_inputCount, outputCount);
                var fragments = _deviceTensorTable;
                var kTiles = (uint)TensorKernelPtx.InputTiles(_inputCount);
                var mTiles = (uint)TensorKernelPtx.OutputTiles(outputCount);
                var tileAt = (uint)TensorKernelPtx.FragmentBytes(_inputCount, outputCount);
                var tParameters = stackalloc void*[] { &x, &fragments, &qY, &qPixels, &qInputs, &qOutputs, &kTiles, &mTiles, &tileAt };
                CudaDriver.Check(CudaDriver.cuLaunchKernel(function, gridX, 1, 1, TensorKernelPtx.BlockSize, 1, 1, (uint)shared, _stream, tParameters, null), "cuLaunchKernel " + kernel);
                return;
            }

            if (kernel == ResidentKernelPtx.Name)
            {
                gridX = ResidentGrid(_pixels, _inputCount, outputCount, _quantizedRowWords);
                if (gridX != 0 && residentGrid != 0)
                {
                    gridX = Math.Min(residentGrid, gridX); // the benchmark's fewer blocks per multiprocessor
                }

                if (gridX == 0)
                {
                    throw new InvalidOperationException($"{kernel} does not take this batch (shared memory or chunks)");
                }

                shared = ResidentKernelPtx.SharedBytes(_inputCount, outputCount, _quantizedRowWords);
                var tile = (uint)ResidentKernelPtx.RecordBytes(outputCount, _quantizedRowWords);
                var rParameters = stackalloc void*[] { &x, &qTable, &qY, &qPixels, &qStride, &qInputs, &qOutputs, &tile };
                CudaDriver.Check(CudaDriver.cuLaunchKernel(function, gridX, 1, 1, ResidentKernelPtx.BlockSize, 1, 1, (uint)shared, _stream, rParameters, null), "cuLaunchKernel " + kernel);
                return;
            }

            if (kernel == PairKernelPtx.Name)
            {
                (gridX, perBlock, var shift) = PairKernelPtx.Geometry(_pixels, outputCount);
                partsShift = (uint)shift;
                shared = PairKernelPtx.SharedBytes(_inputCount, perBlock, _quantizedRowWords);
                if (shared > PairKernelPtx.MaxSharedBytes)
                {
                    throw new InvalidOperationException($"{kernel} would need {shared} bytes of shared memory for this batch; {PairKernelPtx.MaxSharedBytes} is the most");
                }
            }
            else
            {
                (gridX, gridY, perBlock) = QuantizedMixTable.Geometry(_pixels, outputCount);
                shared = (long)_inputCount * QuantizedKernelPtx.TileBytes;
            }

            var qPerBlock = (uint)perBlock;
            // The driver reads as many parameters as the entry declares: zeta_mix16q's eight, the pair kernel's nine.
            var qParameters = stackalloc void*[] { &x, &qTable, &qY, &qPixels, &qStride, &qInputs, &qOutputs, &qPerBlock, &partsShift };
            CudaDriver.Check(CudaDriver.cuLaunchKernel(function, gridX, gridY, 1, QuantizedKernelPtx.BlockSize, 1, 1, (uint)shared, _stream, qParameters, null), "cuLaunchKernel " + kernel);
            return;
        }

        var table = _deviceTable;
        var y = _deviceOutputs;
        var pixels = (uint)_pixels;
        var stride = (uint)_stride;
        var maxMembers = (uint)_maxInputs;
        var parameters = stackalloc void*[] { &x, &table, &y, &pixels, &stride, &maxMembers };
        var perThread = MixKernelPtx.BytesPerThread(kernel);
        var threads = (_pixels + perThread - 1) / perThread;
        var blocks = (uint)((threads + MixKernelPtx.BlockSize - 1) / MixKernelPtx.BlockSize);
        CudaDriver.Check(CudaDriver.cuLaunchKernel(function, blocks, (uint)outputCount, 1, MixKernelPtx.BlockSize, 1, 1, 0, _stream, parameters, null), "cuLaunchKernel " + kernel);
    }

    /// <summary>
    /// Fills the pinned weight tables: per output, the count of non-zero weights, their input indices in ascending order
    /// and the weights (the order <see cref="SparseCpuMixer"/> sums in); notes whether the scaled kernels may run on it;
    /// and, when every row is on <see cref="PixelWeights"/>' grid, the integer kernel's table (<see cref="QuantizedMixTable"/>),
    /// its rows as long as the batch's longest needs, and the tensor-core kernel's (<see cref="TensorMixTable"/>) where
    /// that kernel mixes the batch, or for any batch it takes with <paramref name="allTables"/> (the benchmark launches
    /// every kernel on one table).
    /// </summary>
    internal void WriteTable(ReadOnlySpan<float> weights, int inputCount, int outputCount, bool allTables = false)
    {
        _inputCount = inputCount;
        // The integer table exists only where the kernel loaded and can take the mixer's batches (AllocateOutputs).
        var rowWords = _hostQuantizedTable != null
            ? QuantizedMixTable.Write(weights, inputCount, outputCount, new Span<int>(_hostQuantizedTable, checked((int)((long)_outputCapacity * _quantizedStride))))
            : 0;
        // The tensor kernel's table, where it takes the batch (its rows are the same grid's, without a weight of 1).
        _tensorTable = rowWords != 0 && _hostTensorTable != null && (inputCount <= TensorInputs || (allTables && inputCount <= TensorKernelPtx.MaxInputs))
            && TensorGrid(_pixels, inputCount, outputCount) > 0
            && TensorMixTable.Write(weights, inputCount, outputCount, new Span<int>(_hostTensorTable, _tensorTableCapacity));
        _integerKernel = rowWords == 0 ? null
            : _tensorTable && inputCount <= TensorInputs ? TensorKernelPtx.Name
            : ResidentGrid(_pixels, inputCount, outputCount, rowWords) > 0 ? ResidentKernelPtx.Name
            : PairReady && PairKernelPtx.Fits(_pixels, inputCount, outputCount, rowWords) ? PairKernelPtx.Name : QuantizedKernelPtx.Name;
        _quantizedRowWords = rowWords;
        var scaled = true;
        for (var k = 0; k < outputCount; k++)
        {
            var row = _hostTable + ((long)k * _stride);
            var indices = row + 1;
            var values = (float*)(row + 1 + _maxInputs);
            var n = 0;
            var w = weights.Slice(k * inputCount, inputCount);
            for (var j = 0; j < inputCount; j++)
            {
                if (w[j] != 0f)
                {
                    scaled &= MixKernelPtx.AllowsScaled(w[j]);
                    indices[n] = j;
                    values[n++] = w[j];
                }
            }

            row[0] = n;
        }

        _scaledTable = scaled;
    }

    /// <summary>
    /// Queues the copy of the weight table for <paramref name="outputCount"/> outputs to the device: the one
    /// <see cref="Kernel"/> reads, or (<paramref name="all"/>, for the benchmark's launches of other kernels) both.
    /// </summary>
    internal void UploadTable(int outputCount, bool all = false)
    {
        var integer = IsInteger(Kernel);
        if (all || !integer)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(_deviceTable, _hostTable, (nuint)((long)outputCount * _stride * 4), _stream), "cuMemcpyHtoDAsync");
        }

        var tensor = IsTensor(Kernel);
        if (_integerKernel is not null && (all || (integer && !tensor)))
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(_deviceQuantizedTable, _hostQuantizedTable, (nuint)((long)outputCount * _quantizedRowWords * 4), _stream), "cuMemcpyHtoDAsync");
        }

        if (_tensorTable && (all || tensor))
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(_deviceTensorTable, _hostTensorTable, (nuint)TensorKernelPtx.FragmentBytes(_inputCount, outputCount), _stream), "cuMemcpyHtoDAsync");
        }
    }

    internal static ulong DeviceAlloc(long bytes)
    {
        ulong pointer;
        CudaDriver.Check(CudaDriver.cuMemAlloc_v2(&pointer, (nuint)Math.Max(bytes, 1)), $"cuMemAlloc ({bytes} bytes)");
        return pointer;
    }

    private static void* HostAlloc(long bytes)
    {
        void* pointer;
        CudaDriver.Check(CudaDriver.cuMemHostAlloc(&pointer, (nuint)Math.Max(bytes, 1), 0), $"cuMemHostAlloc ({bytes} bytes, page-locked)");
        return pointer;
    }

    /// <summary>An array on the pinned object heap (it never moves), page-locked for the driver's asynchronous copies.</summary>
    private static byte[] PinnedArray(long bytes)
    {
        var array = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes, 1), pinned: true);
        fixed (byte* p = array)
        {
            CudaDriver.Check(CudaDriver.cuMemHostRegister_v2(p, (nuint)array.Length, 0), $"cuMemHostRegister ({array.Length} bytes)");
        }

        return array;
    }

    private static void Unpin(ref byte[] array)
    {
        if (array.Length > 0)
        {
            fixed (byte* p = array)
            {
                _ = CudaDriver.cuMemHostUnregister(p);
            }

            array = [];
        }
    }

    private void AllocateOutputs(int capacity)
    {
        if ((long)capacity * _pixels > int.MaxValue || (long)_maxInputs * _pixels > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "a batch must stay below 2 GiB of pixels");
        }

        FreeOutputs();
        _stagingOutputs = PinnedArray((long)capacity * _pixels);
        _hostTable = (int*)HostAlloc((long)capacity * _stride * 4);
        _deviceOutputs = DeviceAlloc((long)capacity * _pixels);
        _deviceTable = DeviceAlloc((long)capacity * _stride * 4);
        if (QuantizedReady && _maxInputs <= QuantizedKernelPtx.MaxInputs && _pixels % 16 == 0)
        {
            _hostQuantizedTable = (int*)HostAlloc((long)capacity * _quantizedStride * 4);
            _deviceQuantizedTable = DeviceAlloc((long)capacity * _quantizedStride * 4);
            if (TensorReady && _maxInputs <= TensorKernelPtx.MaxInputs)
            {
                _tensorTableCapacity = TensorMixTable.Words(_maxInputs, capacity);
                _hostTensorTable = (int*)HostAlloc((long)_tensorTableCapacity * 4);
                _deviceTensorTable = DeviceAlloc((long)_tensorTableCapacity * 4);
            }
        }
        _outputCapacity = capacity;
    }

    private void FreeOutputs()
    {
        Unpin(ref _stagingOutputs);

        if (_hostTable != null)
        {
            _ = CudaDriver.cuMemFreeHost(_hostTable);
            _hostTable = null;
        }

        if (_hostQuantizedTable != null)
        {
            _ = CudaDriver.cuMemFreeHost(_hostQuantizedTable);
            _hostQuantizedTable = null;
        }

        if (_hostTensorTable != null)
        {
            _ = CudaDriver.cuMemFreeHost(_hostTensorTable);
            _hostTensorTable = null;
        }

        _tensorTableCapacity = 0;
        _tensorTable = false;

        FreeDevice(ref _deviceOutputs);
        FreeDevice(ref _deviceTable);
        FreeDevice(ref _deviceQuantizedTable);
        FreeDevice(ref _deviceTensorTable);
        _outputCapacity = 0;
    }

    private static void FreeDevice(ref ulong pointer)
    {
        if (pointer != 0)
        {
            _ = CudaDriver.cuMemFree_v2(pointer);
            pointer = 0;
        }
    }

    private static void EnsureModule(CudaDevice device)
    {
        lock (ModuleGate)
        {
            if (_module != IntPtr.Zero)
            {
                return;
            }

            device.MakeCurrent();
            var module = LoadModule(MixKernelPtx.Source);
            foreach (var name in MixKernelPtx.Kernels)
            {
                Functions[name] = GetFunction(module, name);
            }

            _module = module;
            // The integer kernel needs dp4a (sm_61 and newer). Without it, or if the JIT refuses it, the float kernels mix
            // the same batches (their sums are exact for these weights: the same bytes), only slower.
            if (device.Major * 10 + device.Minor < 61)
            {
                _quantizedWhy = $"the GPU is sm_{device.Major}{device.Minor}; the integer kernel needs sm_61 or newer";
                return;
            }

            _quantizedModule = TryLoadKernel(QuantizedKernelPtx.Source, QuantizedKernelPtx.Name, out _quantizedWhy);
            if (_quantizedModule != IntPtr.Zero)
            {
                // The pair kernel reads the same table; if the JIT refuses it, zeta_mix16q mixes its batches.
                _pairModule = TryLoadKernel(PairKernelPtx.Source, PairKernelPtx.Name, out _pairWhy);
            }

            // The resident kernel (cp.async: sm_80 and newer) opts in to the most shared memory a block may have.
            if (_pairModule == IntPtr.Zero)
            {
                return;
            }

            if (device.Major < 8)
            {
                _residentWhy = $"the GPU is sm_{device.Major}{device.Minor}; the resident kernel needs sm_80 or newer";
                _tensorWhy = $"the GPU is sm_{device.Major}{device.Minor}; the tensor-core kernel needs sm_80 or newer";
                return;
            }

            // The tensor-core kernel (mma.sync on bytes, cp.async) reads its own table; where the JIT refuses it, the
            // resident kernel mixes its batches. It opts in to the most shared memory a block may have, as that one does.
            _multiprocessors = device.Multiprocessors;
            _tensorModule = TryLoadKernel(TensorKernelPtx.Source, TensorKernelPtx.Name, out _tensorWhy);
            if (_tensorModule != IntPtr.Zero)
            {
                _tensorSharedLimit = OptInSharedLimit(TensorKernelPtx.Name, device);
            }

            _residentModule = TryLoadKernel(ResidentKernelPtx.Source, ResidentKernelPtx.Name, out _residentWhy);
            if (_residentModule != IntPtr.Zero)
            {
                _residentSharedLimit = OptInSharedLimit(ResidentKernelPtx.Name, device);
            }
        }
    }

    /// <summary>
    /// Opts <paramref name="kernel"/> in to the most dynamic shared memory a block may have
    /// (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 8) and returns its launches' limit: that, or, where the driver
    /// refuses, the 48 KiB every block gets. The caller holds ModuleGate.
    /// </summary>
    private static int OptInSharedLimit(string kernel, CudaDevice device) =>
        CudaDriver.cuFuncSetAttribute(Functions[kernel], 8, device.SharedPerBlockOptIn) == 0 ? device.SharedPerBlockOptIn : 48 * 1024;

    /// <summary>Loads an optional one-kernel module and registers its function; zero, with the JIT's reason, when it refuses.</summary>
    private static IntPtr TryLoadKernel(string source, string name, out string? why)
    {
        try
        {
            var module = LoadModule(source);
            Functions[name] = GetFunction(module, name);
            why = null;
            return module;
        }
        catch (CudaException e)
        {
            why = e.Message;
            return IntPtr.Zero;
        }
    }

    /// <summary>JIT-compiles a PTX module; the compiler's message is in the exception if it refuses the text.</summary>
    private static IntPtr LoadModule(string source)
    {
        var ptx = Encoding.ASCII.GetBytes(source + "\0");
        const int LogSize = 8192;
        var log = stackalloc byte[LogSize];
        // CU_JIT_ERROR_LOG_BUFFER (5) and its size (6): the JIT's message if the PTX is refused.
        var options = stackalloc int[] { 5, 6 };
        var values = stackalloc void*[] { log, (void*)(nint)LogSize };
        IntPtr module;
        int result;
        fixed (byte* image = ptx)
        {
            result = CudaDriver.cuModuleLoadDataEx(&module, image, 2, options, values);
        }

        if (result != 0)
        {
            var message = Marshal.PtrToStringUTF8((IntPtr)log)?.Trim();
            try
            {
                CudaDriver.Check(result, "cuModuleLoadDataEx");
            }
            catch (CudaException e) when (!string.IsNullOrEmpty(message))
            {
                throw new CudaException($"{e.Message}: {message.ReplaceLineEndings(" ")}");
            }
        }

        return module;
    }

    private static IntPtr GetFunction(IntPtr module, string name)
    {
        IntPtr function;
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* n = bytes)
        {
            CudaDriver.Check(CudaDriver.cuModuleGetFunction(&function, module, n), "cuModuleGetFunction " + name);
        }

        return function;
    }

    private static IntPtr Function(string kernel)
    {
        lock (ModuleGate)
        {
            return Functions[kernel];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _device.MakeCurrent();
            if (_stream != IntPtr.Zero)
            {
                _ = CudaDriver.cuStreamSynchronize(_stream);
                _ = CudaDriver.cuStreamDestroy_v2(_stream);
                _stream = IntPtr.Zero;
            }

            Unpin(ref _stagingInputs);

            FreeDevice(ref _deviceInputs);
            FreeOutputs();
        }
    }
}
