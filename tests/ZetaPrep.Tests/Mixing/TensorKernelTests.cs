using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Mixing;

/// <summary>
/// The tensor-core kernel (<see cref="TensorKernelPtx"/>) and its table (<see cref="TensorMixTable"/>). Without a GPU the
/// kernel's own PTX text runs on <see cref="PtxInterpreter"/> (mma.sync as the PTX ISA lays out its fragments), over the
/// launch shape and table that <see cref="CudaMixer"/> gives it, against the CPU kernel; bench/gpu/device_check.sh
/// compares it on a GPU.
/// </summary>
public sealed class TensorKernelTests
{
    public static TheoryData<int, int, int, double, int> Shapes => new()
    {
        { 16 * 16 * 3, 32, 8, 2.8, 41 },     // 3 chunks, the last a quarter full; one input tile, two output tiles
        { 20 * 20 * 3, 40, 8, 2.8, 42 },     // 1200 bytes: the last chunk ends half way through a warp's segment
        { 8 * 8 * 3, 33, 8, 2.8, 43 },       // B + 1: a second input tile with one input, a third output tile with one output
        { 4 * 4 * 3, 70, 2, 0.5, 44 },       // one chunk, 48 bytes; three input tiles, N = 2
        { 8 * 8 * 3, 24, 24, 1.72865, 45 },  // --n batch: every weight non-zero
        { 8 * 8 * 3, 13, 3, 12.0, 46 },      // a steep γ: 3^-12 rounds to 0 units (at 25 every row is one weight of 1, refused)
        { 16 * 3, 128, 8, 2.8, 47 },         // the most inputs: four input tiles, eight output tiles
        { 24 * 24 * 3, 100, 8, 2.8, 48 },    // 7 chunks over a grid of 3: blocks take three, two and two
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_tensor_kernels_PTX_writes_the_CPU_kernels_bytes_on_zeta_batches(int pixels, int batch, int n, double gamma, int seed)
    {
        var x = new byte[batch * pixels];
        new Random(seed).NextBytes(x);
        var w = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed)).Batches[0].PixelWeightMatrix();
        AssertKernelMatchesCpu(x, batch, w, batch, pixels);
    }

    [Fact]
    public void The_tensor_kernels_PTX_rounds_ties_to_even_and_sums_extreme_bytes_and_weights_exactly()
    {
        const int Pixels = 32 * 3;
        var x = QuantizedKernelTests.TieInputs(Pixels, 51);
        x.AsSpan(4 * Pixels, Pixels).Fill(255);
        x.AsSpan(6 * Pixels, Pixels).Fill(255);
        float[] w =
        [
            0.5f, 0.5f, 0, 0, 0, 0, 0, 0,
            0, 0, 0.5f, 0.5f, 0, 0, 0, 0,
            0.25f, 0.25f, 0.25f, 0.25f, 0, 0, 0, 0,
            0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f,
            0, 0.75f, 0, 0, 0, 0, 0.25f, 0,
            1f / 65536, 0, 0, 0, 0, 0, 0, 65535f / 65536,
            0, 0, 0, 0, 65535f / 65536, 0, 1f / 65536, 0, // every byte 255: Σ q·x = 255 · 65536, the largest sum
            0.5f, 0, 0, 0, 0, 0.5f, 0, 0,
            255f / 65536, 65281f / 65536, 0, 0, 0, 0, 0, 0, // q with a low byte of 0xFF, and with a high byte of 0xFF
        ];
        var cpu = AssertKernelMatchesCpu(x, 8, w, 9, Pixels);
        Assert.Equal(254, cpu[0]);
        Assert.Equal(255, cpu[1]);
        Assert.All(cpu.AsSpan(6 * Pixels, Pixels).ToArray(), b => Assert.Equal(255, b));
    }

    [Fact]
    public void The_table_holds_each_weight_as_its_high_and_low_byte_in_the_lane_and_register_of_the_mma_fragment()
    {
        // 20 outputs × 40 inputs: two output tiles, two input tiles, 4 KiB.
        const int Inputs = 40, Outputs = 20;
        var w = new float[Outputs * Inputs];
        w[(0 * Inputs) + 0] = 0x1234 / 65536f; // row 0, input 0: lane 0, register 0, byte 0
        w[(0 * Inputs) + 5] = 1 - (0x1234 / 65536f);
        w[(9 * Inputs) + 18] = 0xABCD / 65536f; // row 9 (g 1, lower half), input 18 (k 16 + 4·0 + 2): lane 4, register 3, byte 2
        w[(9 * Inputs) + 33] = 1 - (0xABCD / 65536f); // input tile 1, k 1: lane 4, register 1, byte 1
        for (var k = 1; k < Outputs; k++)
        {
            if (k != 9)
            {
                w[(k * Inputs) + k] = 1 - (1 / 65536f);
                w[(k * Inputs) + ((k + 1) % Inputs)] = 1 / 65536f;
            }
        }

        var table = new int[TensorMixTable.Words(Inputs, Outputs)];
        Array.Fill(table, -1);
        Assert.Equal(2 * 2 * 32 * 8, table.Length);
        Assert.True(TensorMixTable.Write(w, Inputs, Outputs, table));
        // Tile (0, 0), lane 0: qh words 0..3, ql words 4..7.
        Assert.Equal(0x12, table[0] & 0xFF);
        Assert.Equal(0x34, table[4] & 0xFF);
        // Input 5 = k 5: lane 1 (t = 1), register 0, byte 1; q = 0xEDCC.
        Assert.Equal(0xED, (table[(1 * 8) + 0] >> 8) & 0xFF);
        Assert.Equal(0xCC, (table[(1 * 8) + 4] >> 8) & 0xFF);
        Assert.Equal(0xAB, (table[(4 * 8) + 3] >> 16) & 0xFF);
        Assert.Equal(0xCD, (table[(4 * 8) + 4 + 3] >> 16) & 0xFF);
        // 1 − 0xABCD/65536 = 0x5433 in tile (0, 1): words from 32 · 8 on.
        Assert.Equal(0x54, (table[(32 * 8) + (4 * 8) + 1] >> 8) & 0xFF);
        Assert.Equal(0x33, (table[(32 * 8) + (4 * 8) + 4 + 1] >> 8) & 0xFF);
        // Every weight lands once: the bytes sum to the rows' units.
        var units = 0L;
        for (var word = 0; word < table.Length; word++)
        {
            var scale = (word % 8) < 4 ? 256L : 1L;
            for (var b = 0; b < 4; b++)
            {
                units += scale * ((table[word] >> (8 * b)) & 0xFF);
            }
        }

        Assert.Equal((long)Outputs * PixelWeights.One, units);
    }

    [Fact]
    public void Batches_the_tensor_kernel_cannot_take_are_refused_whole()
    {
        var table = new int[TensorMixTable.Words(8, 2)];
        Assert.False(TensorMixTable.Write([0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0.3f, 0.7f, 0, 0, 0, 0, 0, 0], 8, 2, table)); // off the grid
        Assert.False(TensorMixTable.Write([0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 1f, 0, 0, 0, 0, 0], 8, 2, table)); // q = 65536
        Assert.True(TensorMixTable.Write([0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0.75f, 0.25f, 0, 0, 0, 0], 8, 2, table));
        Assert.False(TensorMixTable.Write(new float[129], 129, 1, new int[TensorMixTable.Words(129, 1)])); // over four input tiles
        Assert.Throws<ArgumentException>(() => TensorMixTable.Write([0.5f, 0.5f], 2, 1, new int[10]));
    }

    [Fact]
    public void The_tensor_kernel_holds_two_tiles_and_the_fragments_and_spreads_chunks_evenly_over_its_blocks()
    {
        // B = 32 at 224²: 2 KiB of fragments and two 8 KiB tiles; 588 chunks of 256 bytes over 396 resident blocks would
        // leave a third of the blocks with one chunk and the rest with two: 294 blocks take two each.
        const int Pixels = 224 * 224 * 3;
        Assert.Equal(2 * 1024, TensorKernelPtx.FragmentBytes(32, 32));
        Assert.Equal(18 * 1024, TensorKernelPtx.SharedBytes(32, 32));
        Assert.Equal((3 * 3 * 1024) + (2 * 3 * 8 * 1024), TensorKernelPtx.SharedBytes(65, 33));
        Assert.Equal(588, TensorKernelPtx.Chunks(Pixels));
        Assert.Equal(294u, TensorKernelPtx.Grid(Pixels, 3, 132));
        Assert.Equal(294u, TensorKernelPtx.Grid(Pixels, 8, 132)); // at most three per multiprocessor
        Assert.Equal(118u, TensorKernelPtx.Grid(Pixels, 1, 132)); // five chunks each (the last block three)
        Assert.Equal(588u, TensorKernelPtx.Grid(Pixels, 3, 196)); // one each
        Assert.Equal(1u, TensorKernelPtx.Grid(48, 3, 132));
        Assert.Equal(0u, TensorKernelPtx.Grid(Pixels, 0, 132));
    }

    /// <summary>Runs the kernel's PTX as <see cref="CudaMixer"/> launches it and compares every byte with the CPU kernel's.</summary>
    private static byte[] AssertKernelMatchesCpu(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        Assert.Equal(0, pixels % 16);
        var cpu = new byte[outputs * pixels];
        new SparseCpuMixer(inputs, pixels).Mix(x, inputs, w, outputs, cpu);

        var words = new int[TensorMixTable.Words(inputs, outputs)];
        Assert.True(TensorMixTable.Write(w, inputs, outputs, words));
        var table = new byte[words.Length * 4];
        Buffer.BlockCopy(words, 0, table, 0, table.Length);

        // A grid of a third as many blocks as chunks (each takes about three in turn, two tiles alternating), with the
        // dynamic shared array 1 KiB into the block's window; copies landing at the wait, then as soon as issued.
        var gridX = (uint)((TensorKernelPtx.Chunks(pixels) + 2) / 3);
        var y = new byte[outputs * pixels];
        foreach (var early in new[] { false, true })
        {
            Array.Fill(y, (byte)0xA5);
            var interpreter = new PtxInterpreter(TensorKernelPtx.Source, TensorKernelPtx.Name) { SharedBase = 1024, EarlyCopies = early };
            interpreter.Run(gridX, 1, TensorKernelPtx.BlockSize, (int)TensorKernelPtx.SharedBytes(inputs, outputs),
                x, table, y, pixels, inputs, outputs, TensorKernelPtx.InputTiles(inputs), TensorKernelPtx.OutputTiles(outputs), (int)TensorKernelPtx.FragmentBytes(inputs, outputs));
            for (var i = 0; i < cpu.Length; i++)
            {
                Assert.True(cpu[i] == y[i], $"copies landing {(early ? "when issued" : "at the wait")}: byte {i} (output {i / pixels}, pixel byte {i % pixels}): CPU {cpu[i]}, PTX {y[i]}");
            }
        }

        return cpu;
    }
}
