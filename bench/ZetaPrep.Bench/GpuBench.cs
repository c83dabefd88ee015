using System.Diagnostics;
using System.Globalization;
using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;

namespace ZetaPrep.Bench;

/// <summary>
/// `gpu` mode (target 5 of issue 8, run on a GPU machine by bench/gpu/device_check.sh): checks that the CUDA kernel
/// writes exactly the CPU kernel's bytes on fresh random batches, then measures, with CUDA events, the device-to-device
/// copy bandwidth (the floor), the kernel alone per batch size against that floor, batches back to back on 1, 2 and 4
/// streams beside a device copy of their bytes, pinned host↔device copy bandwidth, and whole Mix calls (pinned copies +
/// kernel) on 1 and 4 concurrent streams, from the mixer's page-locked staging buffers (as the pipeline calls it) and
/// from ordinary arrays (one host copy each way more). Prints JSON lines, then tables.
/// Exit code 1 when any byte differs. With <c>--only-batch B</c>, only the kernels' timings at batch B (for a profiler).
/// </summary>
internal static unsafe class GpuBench
{
    public static int Run(int size, IReadOnlyCollection<string> kernels, int? onlyBatch = null)
    {
        var unknown = kernels.Except(AllKernels).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"gpu: unknown kernel {unknown[0]}; the modules have {string.Join(", ", AllKernels)}");
            return 2;
        }

        var pixels = size * size * 3;
        var init = Stopwatch.StartNew();
        _ = CudaMixer.IsAvailable(out _);
        var driverSeconds = init.Elapsed.TotalSeconds;
        using var probe = CudaMixer.TryCreate(32, pixels, out var why);
        var initSeconds = init.Elapsed.TotalSeconds;
        if (probe is null)
        {
            Console.Error.WriteLine($"gpu: CUDA cannot be used here: {why}");
            return 2;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"device: {CudaMixer.Describe()}; driver load + cuInit + primary context {driverSeconds:F3} s, then PTX JIT + first buffers {initSeconds - driverSeconds:F3} s"));
        var seed = Environment.TickCount;
        Console.WriteLine($"random seed of this run: {seed}");
        Console.WriteLine(CudaMixer.QuantizedUnavailable is { } noInteger ? $"integer kernel {QuantizedKernelPtx.Name} NOT available: {noInteger}" : $"integer kernel {QuantizedKernelPtx.Name} loaded");
        Console.WriteLine(CudaMixer.PairUnavailable is { } noPairs ? $"pair kernel {PairKernelPtx.Name} NOT available: {noPairs}" : $"pair kernel {PairKernelPtx.Name} loaded");
        Console.WriteLine(CudaMixer.ResidentUnavailable is { } noResident ? $"resident kernel {ResidentKernelPtx.Name} NOT available: {noResident}" : $"resident kernel {ResidentKernelPtx.Name} loaded");
        Console.WriteLine(CudaMixer.TensorUnavailable is { } noTensor ? $"tensor-core kernel {TensorKernelPtx.Name} NOT available: {noTensor}" : $"tensor-core kernel {TensorKernelPtx.Name} loaded (batches of up to {CudaMixer.TensorInputs} inputs)");
        var random = new Random(seed);
        var timed = kernels.Where(k => k is MixKernelPtx.Vector16 or MixKernelPtx.Scaled16 or MixKernelPtx.Vector16Fma || CudaMixer.IsInteger(k)).ToList();
        if (onlyBatch is { } b)
        {
            foreach (var kernel in timed)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{b},\"ms\":{KernelTime(b, pixels, kernel, random):F4}}}"));
            }

            return 0;
        }

        // 1. Bytes: CUDA vs CPU on fresh random images and real ζ weights, output poisoned first: the kernel Mix picks,
        //    then every other kernel that takes the shape on the same device data. Aligned and odd image sizes, N = 8 of
        //    32 and N = batch (the authors' B×B), batches of 5 to 256, and a γ so steep that its smallest weights
        //    (32^-25 = 2^-125) are below what the scaled kernel takes (Mix falls back to zeta_mix16).
        var mismatches = 0L;
        var fmaDiffers = 0L;
        var checkedBytes = 0L;
        //    Each shape twice: with the pipeline's weights (PixelWeights: Mix picks the integer kernel) and with the ζ
        //    formula's own float32 weights (the float kernels); then hand-made rows of exact .5 ties and weights of 1.
        var shapes = new[] { (size, 32, 8, 2.8), (size, 32, 32, 2.8), (size - 1, 32, 8, 2.8), (size, 64, 8, 2.8), (size, 256, 8, 2.8), (40, 48, 8, 2.8), (size, 32, 32, 25.0), (20, 7, 3, 2.8), (17, 5, 2, 2.8), (size, 384, 8, 2.8), (size, 385, 8, 2.8), (8, 300, 300, 1.8), (size, 33, 8, 2.8), (size, 65, 8, 2.8), (size, 128, 8, 2.8), (size, 16, 16, 12.0) };
        foreach (var (s, batch, n, gamma, quantized) in shapes.SelectMany(c => new[] { (c.Item1, c.Item2, c.Item3, c.Item4, true), (c.Item1, c.Item2, c.Item3, c.Item4, false) }).Append((16, 8, 0, 0.0, true)))
        {
            var p = s * s * 3;
            var x = new byte[batch * p];
            random.NextBytes(x);
            var w = n == 0 ? Ties(x, batch, p) : Weights(batch, n, random.Next(), gamma, quantized);
            var cpu = new byte[batch * p];
            new SparseCpuMixer(batch, p).Mix(x, batch, w, batch, cpu);
            using var mixer = CudaMixer.TryCreate(batch, p, out why) ?? throw new InvalidOperationException(why);
            var gpu = new byte[batch * p];
            Array.Fill(gpu, (byte)0xA5);
            mixer.Mix(x, batch, w, batch, gpu);
            var bad = Count(cpu, gpu);
            mismatches += bad;
            checkedBytes += gpu.Length;
            var chosen = mixer.Kernel;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"check\":\"cuda_vs_cpu\",\"size\":{s},\"batch\":{batch},\"n\":{n},\"gamma\":{gamma},\"pixel_weights\":{(quantized ? "true" : "false")},\"kernel\":\"{chosen}\",\"via\":\"Mix\",\"bytes\":{gpu.Length},\"mismatches\":{bad}}}"));
            foreach (var kernel in OtherKernels(p, w, batch).Where(k => k != chosen && kernels.Contains(k)))
            {
                var differ = KernelDifferences(mixer, kernel, w, batch, p, cpu);
                if (kernel == MixKernelPtx.Vector16Fma)
                {
                    fmaDiffers += differ;
                }
                else
                {
                    mismatches += differ;
                    checkedBytes += cpu.Length;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"check\":\"cuda_vs_cpu\",\"size\":{s},\"batch\":{batch},\"n\":{n},\"gamma\":{gamma},\"pixel_weights\":{(quantized ? "true" : "false")},\"kernel\":\"{kernel}\",\"via\":\"Launch\",\"bytes\":{cpu.Length},\"{(kernel == MixKernelPtx.Vector16Fma ? "differs_not_used" : "mismatches")}\":{differ}}}"));
            }
        }

        // 2. The floor: a large device-to-device copy, bytes read + written over time.
        var bandwidth = CopyBandwidth();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"measure\":\"d2d_copy\",\"gb_per_s\":{bandwidth / 1e9:F0}}}"));
        var (h2d, d2h) = PinnedBandwidth();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"measure\":\"pinned_copy\",\"h2d_gb_per_s\":{h2d / 1e9:F1},\"d2h_gb_per_s\":{d2h / 1e9:F1}}}"));

        // 3. The kernel alone, per batch size (outputs = inputs = B, N = 8): rotating over enough input sets to exceed
        //    the L2 cache, so the inputs come from device memory as they would in a run.
        var rows = new List<string>();
        foreach (var batch in new[] { 32, 64, 128, 256, 384 })
        {
            foreach (var kernel in timed)
            {
                var rowWords = QuantizedMixTable.RowWords(Weights(batch, 8, 1).AsSpan(0, batch));
                if (kernel == PairKernelPtx.Name && !PairKernelPtx.Fits(pixels, batch, batch, rowWords))
                {
                    Console.WriteLine($"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"skipped\":\"tile and records over {PairKernelPtx.MaxSharedBytes} bytes\"}}");
                    continue;
                }

                if (kernel == ResidentKernelPtx.Name && CudaMixer.ResidentGrid(pixels, batch, batch, rowWords) == 0)
                {
                    Console.WriteLine($"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"skipped\":\"two tiles and records over the block limit, or fewer chunks than resident blocks\"}}");
                    continue;
                }

                if (CudaMixer.IsTensor(kernel) && CudaMixer.TensorGrid(pixels, batch, batch) == 0)
                {
                    Console.WriteLine($"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"skipped\":\"over {TensorKernelPtx.MaxInputs} inputs or over the block's shared memory\"}}");
                    continue;
                }

                var ms = KernelTime(batch, pixels, kernel, random);
                var bytes = 2.0 * batch * pixels;
                var floorMs = bytes / bandwidth * 1e3;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"size\":{size},\"grid\":{Grid(kernel, pixels, batch, rowWords)},\"ms\":{ms:F4},\"floor_ms\":{floorMs:F4},\"of_floor\":{floorMs / ms:F2},\"images_per_s\":{batch / ms * 1e3:F0}}}"));
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"| {kernel} | {batch} | {ms * 1e3:F1} µs | {floorMs * 1e3:F1} µs | {floorMs / ms:P0} | {batch / ms * 1e3:N0} |"));
                if (kernel is ResidentKernelPtx.Name or TensorKernelPtx.Name)
                {
                    // Fewer resident blocks than fit: 1, 2, … per multiprocessor (the grid is capped, the kernel the same).
                    var sms = CudaMixer.Multiprocessors;
                    for (var perSm = 1; (long)perSm * sms < Grid(kernel, pixels, batch, rowWords); perSm++)
                    {
                        var capped = KernelTime(batch, pixels, kernel, random, (uint)(perSm * sms));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{{\"measure\":\"kernel\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"size\":{size},\"grid\":{perSm * sms},\"blocks_per_sm\":{perSm},\"ms\":{capped:F4},\"of_floor\":{floorMs / capped:F2}}}"));
                        rows.Add(string.Create(CultureInfo.InvariantCulture, $"| {kernel} ({perSm} per SM) | {batch} | {capped * 1e3:F1} µs | {floorMs * 1e3:F1} µs | {floorMs / capped:P0} | {batch / capped * 1e3:N0} |"));
                    }
                }
            }
        }

        // 3b. Back-to-back batches (how a run's batches reach the device: the pipeline keeps one mixer, with its own
        //     stream, per batch in flight): each of 1, 2 and 4 streams launches its own batches (its own table and
        //     outputs) from a host thread, so one launch's start (its first tiles) can overlap another's end; time per
        //     batch over the wall clock from the first launch to the last stream's end. Beside it, the same bytes as a
        //     device-to-device copy (the batch's inputs to an output buffer) launched the same way: the floor at that size.
        var sustainedRows = new List<string>();
        foreach (var batch in new[] { 32, 64, 128, 256, 384 })
        {
            var floorMs = 2.0 * batch * pixels / bandwidth * 1e3;
            foreach (var kernel in timed.Where(k => k is PairKernelPtx.Name or ResidentKernelPtx.Name || CudaMixer.IsTensor(k)).Append("copy"))
            {
                var rowWords = QuantizedMixTable.RowWords(Weights(batch, 8, 1).AsSpan(0, batch));
                if (kernel == PairKernelPtx.Name ? batch is not (32 or 256) || !PairKernelPtx.Fits(pixels, batch, batch, rowWords)
                    : kernel == ResidentKernelPtx.Name ? CudaMixer.ResidentGrid(pixels, batch, batch, rowWords) == 0
                    : CudaMixer.IsTensor(kernel) && CudaMixer.TensorGrid(pixels, batch, batch) == 0)
                {
                    continue;
                }

                foreach (var streams in new[] { 1, 2, 4 })
                {
                    var ms = SustainedTime(batch, pixels, kernel, streams, random);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{{\"measure\":\"back_to_back\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"streams\":{streams},\"ms_per_batch\":{ms:F4},\"of_floor\":{floorMs / ms:F2},\"images_per_s\":{batch / ms * 1e3:F0}}}"));
                    sustainedRows.Add(string.Create(CultureInfo.InvariantCulture, $"| {(kernel == "copy" ? "device-to-device copy of the batch" : kernel)} | {batch} | {streams} | {ms * 1e3:F1} µs | {floorMs * 1e3:F1} µs | {floorMs / ms:P0} | {batch / ms * 1e3:N0} |"));
                }

                if (batch <= 64 && (CudaMixer.IsTensor(kernel) || (kernel == ResidentKernelPtx.Name && !timed.Any(CudaMixer.IsTensor))))
                {
                    // Small batches in flight with fewer blocks each (1 or 2 per multiprocessor): more chunks per block,
                    // so each launch's fixed costs (records or fragments, first tile) spread over more work, while other
                    // streams' launches fill the rest of the device.
                    var sms = CudaMixer.Multiprocessors;
                    foreach (var perSm in new[] { 1, 2 })
                    {
                        foreach (var streams in new[] { 2, 4 })
                        {
                            var ms = SustainedTime(batch, pixels, kernel, streams, random, (uint)(perSm * sms));
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{{\"measure\":\"back_to_back\",\"kernel\":\"{kernel}\",\"batch\":{batch},\"streams\":{streams},\"blocks_per_sm\":{perSm},\"ms_per_batch\":{ms:F4},\"of_floor\":{floorMs / ms:F2}}}"));
                            sustainedRows.Add(string.Create(CultureInfo.InvariantCulture, $"| {kernel} ({perSm} per SM) | {batch} | {streams} | {ms * 1e3:F1} µs | {floorMs * 1e3:F1} µs | {floorMs / ms:P0} | {batch / ms * 1e3:N0} |"));
                        }
                    }
                }
            }
        }

        // 4. Whole Mix calls (memcpy into pinned memory, H2D, kernel, D2H, memcpy out) at the pipeline's batch of 32, on
        //    1 and 4 streams at once (the pipeline keeps one mixer per batch in flight).
        var stepRows = new List<string>();
        foreach (var staged in new[] { true, false })
        {
            foreach (var streams in new[] { 1, 4 })
            {
                var perSecond = MixThroughput(streams, 32, pixels, staged, random);
                // Full duplex: uploads and downloads of different batches can overlap, so the floor is one image each way.
                var pcieFloor = 1 / (pixels / Math.Min(h2d, d2h));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"measure\":\"mix_call\",\"host_buffers\":\"{(staged ? "staging" : "copied")}\",\"streams\":{streams},\"batch\":32,\"size\":{size},\"images_per_s\":{perSecond:F0},\"pcie_floor_images_per_s\":{pcieFloor:F0},\"of_floor\":{perSecond / pcieFloor:F2}}}"));
                stepRows.Add(string.Create(CultureInfo.InvariantCulture, $"| {(staged ? "page-locked staging (the pipeline's)" : "caller's arrays, copied")} | {streams} | {perSecond:N0} | {pcieFloor:N0} | {perSecond / pcieFloor:P0} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"bytes checked CUDA vs CPU: {checkedBytes:N0}, mismatches: {mismatches}; FMA kernel would differ in {fmaDiffers} bytes");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"device-to-device copy: {bandwidth / 1e9:F0} GB/s; pinned H2D {h2d / 1e9:F1} GB/s, D2H {d2h / 1e9:F1} GB/s"));
        Console.WriteLine("| kernel | batch | time | floor (2 B/px at copy bandwidth) | of floor | images/s |");
        Console.WriteLine("|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("| kernel, back-to-back batches | batch | streams | time per batch | floor | of floor | images/s |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        sustainedRows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("| Mix call (H2D + kernel + D2H), batch 32 | streams | images/s | PCIe floor | of floor |");
        Console.WriteLine("|---|---|---|---|---|");
        stepRows.ForEach(Console.WriteLine);
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>Every kernel the modules have.</summary>
    public static IEnumerable<string> AllKernels => MixKernelPtx.Kernels.Append(QuantizedKernelPtx.Name).Append(PairKernelPtx.Name).Append(ResidentKernelPtx.Name)
        .Append(TensorKernelPtx.Name);

    /// <summary>The blocks of an integer kernel's launch for a batch (outputs = inputs), 0 for the float kernels.</summary>
    private static long Grid(string kernel, int pixels, int batch, int rowWords) => kernel switch
    {
        ResidentKernelPtx.Name => CudaMixer.ResidentGrid(pixels, batch, batch, rowWords),
        TensorKernelPtx.Name => CudaMixer.TensorGrid(pixels, batch, batch),
        PairKernelPtx.Name => PairKernelPtx.Geometry(pixels, batch).GridX,
        QuantizedKernelPtx.Name => QuantizedMixTable.Geometry(pixels, batch) is var (x, y, _) ? (long)x * y : 0,
        _ => 0,
    };

    /// <summary>
    /// A batch's dense weight matrix from the real planner: N-sparse ζ rows (γ = 2.8 unless given) over a batch of B,
    /// as the pipeline mixes with them (<see cref="PlannedBatch.PixelWeightMatrix"/>) or the formula's own float32.
    /// </summary>
    private static float[] Weights(int batch, int n, int seed, double gamma = 2.8, bool quantized = true)
    {
        var plan = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed));
        return quantized ? plan.Batches[0].PixelWeightMatrix() : plan.Batches[0].WeightMatrix();
    }

    /// <summary>
    /// Rows of 8 inputs whose sums land on exact .5 marks (halves of neighbouring bytes; quarters of four), rows of one
    /// weight of 1, and mixes up to 255: inputs 1, 3, 5, 7 are inputs 0, 2, 4, 6 plus one where that stays a byte.
    /// </summary>
    private static float[] Ties(byte[] x, int batch, int p)
    {
        for (var j = 1; j < batch; j += 2)
        {
            for (var i = 0; i < p; i++)
            {
                var b = x[((j - 1) * p) + i];
                x[(j * p) + i] = (byte)Math.Min(b + 1, 255);
            }
        }

        var rows = new[]
        {
            new[] { 0.5f, 0.5f, 0, 0, 0, 0, 0, 0 },
            new[] { 0, 0, 0.5f, 0.5f, 0, 0, 0, 0 },
            new[] { 0.25f, 0.25f, 0.25f, 0.25f, 0, 0, 0, 0 },
            new[] { 0, 0, 0, 0, 1f, 0, 0, 0 },
            new[] { 0, 0, 0, 0, 0, 0, 0, 1f },
            new[] { 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f },
            new[] { 0, 0.75f, 0, 0, 0, 0, 0.25f, 0 },
            new[] { 0.5f, 0, 0, 0, 0, 0.5f, 0, 0 },
        };
        return [.. rows.Take(batch).SelectMany(r => r)];
    }

    private static long Count(byte[] a, byte[] b)
    {
        var n = 0L;
        for (var i = 0; i < a.Length; i++)
        {
            n += a[i] != b[i] ? 1 : 0;
        }

        return n;
    }

    /// <summary>The kernels other than the scalar one that take images of <paramref name="p"/> bytes and weights <paramref name="w"/>.</summary>
    private static IEnumerable<string> OtherKernels(int p, float[] w, int batch)
    {
        if (p % 16 != 0)
        {
            yield break;
        }

        if (CudaMixer.QuantizedUnavailable is null && batch <= QuantizedKernelPtx.MaxInputs && w.Chunk(batch).All(r => PixelWeights.IsQuantized(r)))
        {
            yield return QuantizedKernelPtx.Name;
            var rowWords = w.Chunk(batch).Max(r => QuantizedMixTable.RowWords(r));
            if (CudaMixer.PairUnavailable is null && PairKernelPtx.Fits(p, batch, batch, rowWords))
            {
                yield return PairKernelPtx.Name;
            }

            if (CudaMixer.ResidentGrid(p, batch, batch, rowWords) > 0)
            {
                yield return ResidentKernelPtx.Name;
            }

            if (CudaMixer.TensorGrid(p, batch, batch) > 0 && TensorMixTable.Write(w, batch, batch, new int[TensorMixTable.Words(batch, batch)]))
            {
                yield return TensorKernelPtx.Name;
            }
        }

        yield return MixKernelPtx.Vector16;
        yield return MixKernelPtx.Vector16Fma;
        if (w.All(MixKernelPtx.AllowsScaled))
        {
            yield return MixKernelPtx.Scaled16;
        }
    }

    /// <summary>Bytes of <paramref name="kernel"/>'s output that differ from <paramref name="cpu"/>, on the inputs the last Mix left on the device and every table of <paramref name="w"/>.</summary>
    private static long KernelDifferences(CudaMixer mixer, string kernel, float[] w, int batch, int p, byte[] cpu)
    {
        var y = new byte[batch * p];
        mixer.WriteTable(w, batch, batch, allTables: true); // Mix wrote only the tables its own kernel reads
        mixer.UploadTable(batch, all: true); // ... and uploaded only the one it reads
        fixed (byte* dst = y)
        {
            CudaDriver.Check(CudaDriver.cuMemsetD8Async(mixer.DeviceOutputs, 0xA5, (nuint)y.Length, mixer.Stream), "cuMemsetD8Async");
            mixer.Launch(kernel, batch);
            CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2(dst, mixer.DeviceOutputs, (nuint)y.Length, mixer.Stream), "cuMemcpyDtoHAsync");
            CudaDriver.Check(CudaDriver.cuStreamSynchronize(mixer.Stream), "cuStreamSynchronize");
        }

        return Count(cpu, y);
    }

    private static double CopyBandwidth()
    {
        const long Bytes = 1L << 30;
        var a = CudaMixer.DeviceAlloc(Bytes);
        var b = CudaMixer.DeviceAlloc(Bytes);
        try
        {
            CudaDriver.Check(CudaDriver.cuMemsetD8Async(a, 7, (nuint)Bytes, IntPtr.Zero), "cuMemsetD8Async");
            var ms = Timed(IntPtr.Zero, 10, () => CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync_v2(b, a, (nuint)Bytes, IntPtr.Zero), "cuMemcpyDtoDAsync"));
            return 2.0 * Bytes / (ms / 1e3);
        }
        finally
        {
            _ = CudaDriver.cuMemFree_v2(a);
            _ = CudaDriver.cuMemFree_v2(b);
        }
    }

    private static (double H2D, double D2H) PinnedBandwidth()
    {
        const long Bytes = 256L << 20;
        void* pinned;
        CudaDriver.Check(CudaDriver.cuMemHostAlloc(&pinned, (nuint)Bytes, 0), "cuMemHostAlloc");
        var host = (IntPtr)pinned;
        var device = CudaMixer.DeviceAlloc(Bytes);
        try
        {
            var up = Timed(IntPtr.Zero, 10, () => CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(device, (void*)host, (nuint)Bytes, IntPtr.Zero), "cuMemcpyHtoDAsync"));
            var down = Timed(IntPtr.Zero, 10, () => CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2((void*)host, device, (nuint)Bytes, IntPtr.Zero), "cuMemcpyDtoHAsync"));
            return (Bytes / (up / 1e3), Bytes / (down / 1e3));
        }
        finally
        {
            _ = CudaDriver.cuMemFree_v2(device);
            _ = CudaDriver.cuMemFreeHost(pinned);
        }
    }

    private static double KernelTime(int batch, int pixels, string kernel, Random random, uint residentGrid = 0)
    {
        using var mixer = CudaMixer.TryCreate(batch, pixels, out var why) ?? throw new InvalidOperationException(why);
        var w = Weights(batch, 8, random.Next());
        mixer.WriteTable(w, batch, batch, allTables: true);
        mixer.UploadTable(batch, all: true);
        using var sets = new InputSets((long)batch * pixels, mixer.Stream, random);
        var next = 0;
        const int PerTiming = 40;
        return Timed(mixer.Stream, 7, () =>
        {
            for (var i = 0; i < PerTiming; i++)
            {
                mixer.Launch(kernel, batch, sets[next++], residentGrid);
            }
        }) / PerTiming;
    }

    /// <summary>
    /// Device buffers of one batch's inputs each, fresh random bytes, more of them than the L2 cache holds (256 MB and at
    /// least two), so that launches rotating over them (<c>sets[i]</c>, any i) read their inputs from device memory.
    /// </summary>
    private sealed class InputSets : IDisposable
    {
        private readonly ulong[] _buffers;

        public InputSets(long setBytes, IntPtr stream, Random random)
        {
            _buffers = new ulong[(int)Math.Max(2, Math.Ceiling(256e6 / setBytes))];
            var x = new byte[setBytes];
            try
            {
                fixed (byte* src = x)
                {
                    for (var i = 0; i < _buffers.Length; i++)
                    {
                        random.NextBytes(x);
                        _buffers[i] = CudaMixer.DeviceAlloc(setBytes);
                        CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(_buffers[i], src, (nuint)setBytes, stream), "cuMemcpyHtoDAsync");
                        CudaDriver.Check(CudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
                    }
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public ulong this[int i] => _buffers[i % _buffers.Length];

        public void Dispose()
        {
            foreach (var b in _buffers)
            {
                if (b != 0)
                {
                    _ = CudaDriver.cuMemFree_v2(b);
                }
            }

            Array.Clear(_buffers);
        }
    }

    /// <summary>
    /// Milliseconds per batch of <paramref name="kernel"/> launched back to back on <paramref name="streams"/> streams (one
    /// mixer, table and output buffer each; the input sets, more than the L2 cache holds, shared), from host threads, over
    /// the wall clock of 40 launches per stream (median of 7 rounds, after one). Kernel "copy": a device-to-device copy
    /// of the batch's inputs to the mixer's outputs instead.
    /// </summary>
    private static double SustainedTime(int batch, int pixels, string kernel, int streams, Random random, uint residentGrid = 0)
    {
        var mixers = new CudaMixer[streams];
        var setBytes = (long)batch * pixels;
        InputSets? sets = null;
        try
        {
            for (var m = 0; m < streams; m++)
            {
                mixers[m] = CudaMixer.TryCreate(batch, pixels, out var why) ?? throw new InvalidOperationException(why);
                mixers[m].WriteTable(Weights(batch, 8, random.Next()), batch, batch, allTables: true);
                mixers[m].UploadTable(batch, all: true);
            }

            sets = new InputSets(setBytes, mixers[0].Stream, random);
            const int PerStream = 40;
            void Round(int m)
            {
                for (var i = 0; i < PerStream; i++)
                {
                    var inputs = sets[(i * streams) + m];
                    if (kernel == "copy")
                    {
                        CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync_v2(mixers[m].DeviceOutputs, inputs, (nuint)setBytes, mixers[m].Stream), "cuMemcpyDtoDAsync");
                    }
                    else
                    {
                        mixers[m].Launch(kernel, batch, inputs, residentGrid);
                    }
                }

                CudaDriver.Check(CudaDriver.cuStreamSynchronize(mixers[m].Stream), "cuStreamSynchronize");
            }

            var options = new ParallelOptions { MaxDegreeOfParallelism = streams };
            Parallel.For(0, streams, options, Round); // warm-up
            var times = new double[7];
            for (var r = 0; r < times.Length; r++)
            {
                var clock = Stopwatch.StartNew();
                Parallel.For(0, streams, options, Round);
                times[r] = clock.Elapsed.TotalMilliseconds / (PerStream * streams);
            }

            Array.Sort(times);
            return times[times.Length / 2];
        }
        finally
        {
            sets?.Dispose();
            foreach (var m in mixers)
            {
                m?.Dispose();
            }
        }
    }

    /// <summary>Images per second of whole Mix calls with <paramref name="streams"/> mixers on as many threads.</summary>
    private static double MixThroughput(int streams, int batch, int pixels, bool staged, Random random)
    {
        var mixers = Enumerable.Range(0, streams).Select(_ => CudaMixer.TryCreate(batch, pixels, out var why) ?? throw new InvalidOperationException(why)).ToArray();
        try
        {
            var x = new byte[batch * pixels];
            random.NextBytes(x);
            var w = Weights(batch, 8, random.Next());
            foreach (var m in mixers)
            {
                x.CopyTo(m.Staging!.Value.Inputs, 0);
            }

            const int Calls = 200;
            void Work(int s)
            {
                var (input, output) = staged ? mixers[s].Staging!.Value : (x, new byte[batch * pixels]);
                for (var i = 0; i < Calls; i++)
                {
                    mixers[s].Mix(input.AsSpan(0, batch * pixels), batch, w, batch, output.AsSpan(0, batch * pixels));
                }
            }

            Parallel.For(0, streams, Work); // warm-up
            var clock = Stopwatch.StartNew();
            Parallel.For(0, streams, new ParallelOptions { MaxDegreeOfParallelism = streams }, Work);
            return streams * Calls * batch / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var m in mixers)
            {
                m.Dispose();
            }
        }
    }

    /// <summary>Median milliseconds of <paramref name="reps"/> runs of <paramref name="work"/> between two events on a stream, after a warm-up.</summary>
    private static double Timed(IntPtr stream, int reps, Action work)
    {
        IntPtr start, end;
        CudaDriver.Check(CudaDriver.cuEventCreate(&start, 0), "cuEventCreate");
        CudaDriver.Check(CudaDriver.cuEventCreate(&end, 0), "cuEventCreate");
        try
        {
            work();
            CudaDriver.Check(CudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            var times = new double[reps];
            for (var r = 0; r < reps; r++)
            {
                CudaDriver.Check(CudaDriver.cuEventRecord(start, stream), "cuEventRecord");
                work();
                CudaDriver.Check(CudaDriver.cuEventRecord(end, stream), "cuEventRecord");
                CudaDriver.Check(CudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
                float ms;
                CudaDriver.Check(CudaDriver.cuEventElapsedTime(&ms, start, end), "cuEventElapsedTime");
                times[r] = ms;
            }

            Array.Sort(times);
            return times[reps / 2];
        }
        finally
        {
            _ = CudaDriver.cuEventDestroy_v2(start);
            _ = CudaDriver.cuEventDestroy_v2(end);
        }
    }
}
