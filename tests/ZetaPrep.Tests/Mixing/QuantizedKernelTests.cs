using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Mixing;

/// <summary>
/// The pixel weights (<see cref="PixelWeights"/>) and the integer GPU kernel (<see cref="QuantizedKernelPtx"/>). Without a
/// GPU the kernel's own PTX text runs on <see cref="PtxInterpreter"/>, over the launch shape and table that
/// <see cref="CudaMixer"/> gives it, against the CPU kernel; bench/gpu/device_check.sh compares it on a GPU.
/// </summary>
public sealed class QuantizedKernelTests
{
    [Theory]
    [InlineData(32, 8, 2.8, 1)]
    [InlineData(64, 2, 0.5, 2)]
    [InlineData(64, 64, 2.8, 3)]
    [InlineData(256, 256, 1.72865, 4)]
    [InlineData(16, 16, 25.0, 5)]
    public void Pixel_weights_are_whole_multiples_of_2_to_the_minus_16_summing_to_1_within_a_unit_of_the_formula(int batch, int n, double gamma, int seed)
    {
        var plan = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed));
        var exact = plan.Batches[0].WeightMatrix();
        var pixel = plan.Batches[0].PixelWeightMatrix();
        Assert.Equal(pixel, plan.Batches[0].PixelWeightMatrix()); // deterministic
        for (var k = 0; k < batch; k++)
        {
            var row = pixel.AsSpan(k * batch, batch);
            Assert.True(PixelWeights.IsQuantized(row));
            var units = 0L;
            for (var j = 0; j < batch; j++)
            {
                var q = row[j] * PixelWeights.One;
                Assert.Equal(MathF.Floor(q), q);
                units += (long)q;
                Assert.True(Math.Abs(q - (exact[(k * batch) + j] * PixelWeights.One)) < 1.0001, $"row {k}, input {j}: {q} units for weight {exact[(k * batch) + j]}");
                if (exact[(k * batch) + j] == 0f)
                {
                    Assert.Equal(0f, row[j]);
                }
            }

            Assert.Equal(PixelWeights.One, units);
            // The dominant member keeps its place: output k is input k's.
            Assert.Equal(row[k], row.ToArray().Max());
        }

        // The formula's own float32 weights are not on the grid (γ = 2.8's never are).
        if (gamma == 2.8)
        {
            Assert.Contains(Enumerable.Range(0, batch), k => !PixelWeights.IsQuantized(exact.AsSpan(k * batch, batch)));
        }
    }

    [Fact]
    public void Units_keep_weights_already_on_the_grid_normalise_rows_and_give_leftover_units_to_the_earlier_weight()
    {
        Assert.Equal([32768L, 16384, 16384, 0], PixelWeights.Units([0.5f, 0.25f, 0.25f, 0f]));
        Assert.Equal([65536L, 0, 0], PixelWeights.Units([1f, 0f, 0f]));
        Assert.Equal([32768L, 16384, 16384, 0], PixelWeights.Units([2f, 1f, 1f, 0f]));

        // Thirds: 65536 / 3 = 21845.33 each, the one unit left over to the first; in another order, to the first there.
        Assert.Equal([21846L, 21845, 21845], PixelWeights.Units([1f / 3, 1f / 3, 1f / 3]));
        // 0.7f and 0.3f are 0.69999999 and 0.30000001: 45874.9992 and 19661.0008 units → 45875 and 19661.
        Assert.Equal([45875L, 19661], PixelWeights.Units([0.7f, 0.3f]));
        // Fifths: 13107.2 units each, one unit left over, to the first (a tie).
        Assert.Equal([13108L, 13107, 13107, 13107, 13107], PixelWeights.Units([0.2f, 0.2f, 0.2f, 0.2f, 0.2f]));
        Assert.Equal([0L, 0], PixelWeights.Units([0f, 0f]));
        Assert.Throws<ArgumentException>(() => PixelWeights.Units([float.NaN, 1f]));
        Assert.Throws<ArgumentException>(() => PixelWeights.Units([float.PositiveInfinity, 1f]));
        Assert.Throws<ArgumentException>(() => PixelWeights.Units([-0.5f, 1.5f]));

        Assert.False(PixelWeights.IsQuantized([0.5f, 0.25f]));
        Assert.False(PixelWeights.IsQuantized([0.5f, 0.5f + (1f / 65536)]));
        Assert.False(PixelWeights.IsQuantized([-0.5f, 1.5f]));
        Assert.False(PixelWeights.IsQuantized([float.NaN, 1f]));
        Assert.True(PixelWeights.IsQuantized([1f / 65536, 65535f / 65536]));
    }

    [Theory]
    [InlineData(8, 51)]
    [InlineData(64, 52)]
    [InlineData(65, 53)]
    [InlineData(300, 54)]
    public void Units_follow_the_recipe_in_FORMATS_for_short_and_long_rows(int n, int seed)
    {
        var random = new Random(seed);
        for (var trial = 0; trial < 50; trial++)
        {
            // ζ-like rows, and rows with repeated weights (ties between remainders) and zeros.
            var w = new float[n];
            for (var i = 0; i < n; i++)
            {
                w[i] = trial % 2 == 0 ? (float)Math.Pow(i + 1, -1 - random.NextDouble() * 2) : random.Next(4) / 3f;
            }

            if (w.All(v => v == 0f))
            {
                w[0] = 1f;
            }

            // docs/FORMATS.md: Σw in float64 first to last, r = w/Σw·65536, q = ⌊r⌋, one more unit to the largest r − q
            // (the earlier on a tie) until they sum to 65536.
            var total = 0.0;
            foreach (var v in w)
            {
                total += v;
            }

            var r = w.Select(v => v / total * 65536).ToArray();
            var q = r.Select(x => (long)Math.Floor(x)).ToArray();
            var order = Enumerable.Range(0, n).OrderBy(i => q[i] - r[i]).ThenBy(i => i).Take((int)(65536 - q.Sum())).ToList();
            order.ForEach(i => q[i]++);
            Assert.Equal(q, PixelWeights.Units(w));
        }
    }

    [Theory]
    [InlineData(32, 8, 2.8, 11)]
    [InlineData(48, 3, 0.8, 12)]
    [InlineData(64, 64, 1.72865, 13)]
    public void With_pixel_weights_the_CPU_kernels_float_sums_are_the_exact_integer_sums_rounded_half_to_even(int batch, int n, double gamma, int seed)
    {
        const int Pixels = 10 * 10 * 3;
        var x = new byte[batch * Pixels];
        new Random(seed).NextBytes(x);
        var w = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed)).Batches[0].PixelWeightMatrix();
        var cpu = new byte[x.Length];
        new SparseCpuMixer(batch, Pixels).Mix(x, batch, w, batch, cpu);
        Assert.Equal(IntegerReference(x, batch, w, batch, Pixels), cpu);
    }

    [Theory]
    [InlineData(8, 2.8, 41, null)]
    [InlineData(2, 0.9, 42, null)]
    [InlineData(2, 2.8, 43, "mixup")]
    public void A_reader_recomputes_every_mixed_pixel_from_the_sources_and_weights_columns(int n, double gamma, int seed, string? method)
    {
        const int Batch = 32, Pixels = 24 * 24 * 3;
        var x = new byte[Batch * Pixels];
        new Random(seed).NextBytes(x);
        var options = new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), Batch, seed: (ulong)seed);
        if (method is not null)
        {
            options = options with { Method = MixMethodOptions.Parse(method, 0.4) };
        }

        var batch = MixPlan.Create(Batch, options).Batches[0];
        Assert.All(batch.Outputs, o => Assert.Null(o.PixelWeights)); // zeta and mixup: the pixels use the label weights
        var y = new byte[x.Length];
        new SparseCpuMixer(Batch, Pixels).Mix(x, Batch, batch.PixelWeightMatrix(), Batch, y);
        var expected = new byte[x.Length];
        for (var k = 0; k < Batch; k++)
        {
            // The columns: sources (members, dominant first) and weights (float32, same order).
            var recipe = batch.Outputs[k];
            var units = PixelWeights.Units([.. recipe.Weights.Select(w => (float)w)]);
            for (var i = 0; i < Pixels; i++)
            {
                long sum = 0;
                for (var m = 0; m < recipe.Members.Length; m++)
                {
                    sum += units[m] * x[(recipe.Members[m] * Pixels) + i];
                }

                expected[(k * Pixels) + i] = Rounded(sum);
            }
        }

        Assert.Equal(expected, y);
        // The formula's own float32 weights give other bytes here and there (a sum near a .5 mark; at N = 8 some in this
        // batch): what the grid changes, by one level at most.
        var formula = new byte[x.Length];
        new SparseCpuMixer(Batch, Pixels).Mix(x, Batch, batch.WeightMatrix(), Batch, formula);
        var differ = formula.Zip(y).Count(p => p.First != p.Second);
        Assert.InRange(differ, n == 8 ? 1 : 0, x.Length / 200);
        Assert.All(formula.Zip(y), p => Assert.InRange(p.First - p.Second, -1, 1));
    }

    public static TheoryData<int, int, int, double, int> Shapes => new()
    {
        { 16 * 16 * 3, 32, 8, 2.8, 21 },     // 6 chunks, one pass of 32 outputs
        { 20 * 20 * 3, 40, 8, 2.8, 22 },     // a partial last chunk (1200 = 9 · 128 + 48), a second pass of 8 outputs
        { 4 * 4 * 3, 70, 2, 0.5, 23 },      // one chunk: the outputs split over grid y (zeta_mix16p: 4 blocks, one empty); N = 2
        { 8 * 8 * 3, 24, 24, 1.72865, 24 },  // --n batch: 6 groups of four members
        { 8 * 8 * 3, 20, 10, 2.8, 28 },      // 10 members: 3 groups, the last with two padding members
        { 8 * 8 * 3, 13, 3, 25.0, 25 },      // a steep γ: tiny weights round to 0, members drop out; 3 members pad a group
        { 4 * 4 * 3, 200, 8, 2.8, 26 },     // 1600 tile pieces: the load loop's second round (B = 256 needs two)
        { 16 * 3, 384, 8, 2.8, 27 },        // the largest batch the 48 KiB tile takes: three load rounds
    };

    /// <summary>Every integer kernel's name.</summary>
    public static TheoryData<string> IntegerKernels => new([QuantizedKernelPtx.Name, PairKernelPtx.Name, ResidentKernelPtx.Name]);

    /// <summary><see cref="Shapes"/> for every integer kernel whose launch fits them (the pair kernel's tile and records must fit 48 KiB).</summary>
    public static TheoryData<string, int, int, int, double, int> KernelShapes()
    {
        var data = new TheoryData<string, int, int, int, double, int>();
        foreach (var kernel in IntegerKernels)
        {
            foreach (var row in Shapes)
            {
                var (pixels, batch, n, gamma, seed) = ((int)row[0], (int)row[1], (int)row[2], (double)row[3], (int)row[4]);
                var w = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed)).Batches[0].PixelWeightMatrix();
                var rowWords = QuantizedMixTable.Write(w, batch, batch, new int[batch * QuantizedMixTable.Stride(batch)]);
                if (kernel != PairKernelPtx.Name || PairKernelPtx.Fits(pixels, batch, batch, rowWords))
                {
                    data.Add(kernel, pixels, batch, n, gamma, seed);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KernelShapes))]
    public void The_integer_kernels_PTX_writes_the_CPU_kernels_bytes_on_zeta_batches(string kernel, int pixels, int batch, int n, double gamma, int seed)
    {
        var x = new byte[batch * pixels];
        new Random(seed).NextBytes(x);
        var w = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed)).Batches[0].PixelWeightMatrix();
        AssertKernelMatchesCpu(kernel, x, batch, w, batch, pixels);
    }

    [Fact]
    public void The_pair_kernel_takes_batches_whose_tile_and_records_fit_48_KiB_and_leaves_the_rest_to_zeta_mix16q()
    {
        // B = 256, N = 8 at 224²: 32 KiB of tile and 256 rows of two 16-byte records (8 KiB) fit; B = 384 does not
        // (48 KiB of tile alone), nor does --n batch over 128 inputs (16 KiB of tile, 128 rows of 33 records: 66 KiB more).
        const int Pixels = 224 * 224 * 3;
        Assert.Equal(40 * 1024, PairKernelPtx.SharedBytes(256, 256, 4 + 16));
        Assert.True(PairKernelPtx.Fits(Pixels, 256, 256, 4 + 16));
        Assert.False(PairKernelPtx.Fits(Pixels, 384, 384, 4 + 16));
        Assert.Equal(2, PairKernelPtx.Groups(4 + 16));
        Assert.Equal((64 * 128) + (64 * 17 * 16), PairKernelPtx.SharedBytes(64, 64, 4 + (17 * 8)));
        Assert.True(PairKernelPtx.Fits(Pixels, 64, 64, 4 + (17 * 8)));
        Assert.False(PairKernelPtx.Fits(Pixels, 128, 128, 4 + (33 * 8)));
        // The grid: one block per chunk for all of a batch's outputs; where the image has too few chunks, its outputs
        // split over neighbouring blocks, a power of two of them: 70 outputs in one chunk are 3 passes of 32, so 4 blocks
        // of one pass each, the last with none (it returns at once; the shape of 70 outputs in 48 bytes runs one).
        Assert.Equal(((uint)(Pixels / 128), 256, 0), PairKernelPtx.Geometry(Pixels, 256));
        Assert.Equal((4u, 32, 2), PairKernelPtx.Geometry(4 * 4 * 3, 70));
    }

    [Fact]
    public void The_resident_kernel_holds_two_tiles_and_every_record_and_runs_as_many_blocks_as_the_device_holds()
    {
        // B = 256, N = 8 at 224²: 256 rows of two 16-byte records (8 KiB) and two 32 KiB tiles, 72 KiB: three blocks on
        // an H100/H200 multiprocessor (228 KiB); 132 of them take the image's 1176 chunks in turns of three or two.
        const int Pixels = 224 * 224 * 3;
        Assert.Equal(8 * 1024, ResidentKernelPtx.RecordBytes(256, 4 + 16));
        Assert.Equal(72 * 1024, ResidentKernelPtx.SharedBytes(256, 256, 4 + 16));
        Assert.Equal(1176, ResidentKernelPtx.Chunks(Pixels));
        Assert.Equal(396u, ResidentKernelPtx.Grid(Pixels, 3, 132));
        Assert.Equal(396u, ResidentKernelPtx.Grid(Pixels, 8, 132)); // at most three per multiprocessor
        Assert.Equal(264u, ResidentKernelPtx.Grid(Pixels, 2, 132));
        Assert.Equal(1176u, ResidentKernelPtx.Grid(Pixels, 3, 392)); // exactly one chunk per block
        // Fewer chunks than the device holds blocks (or none fit): 0, the pair kernel's launch (it splits the outputs).
        Assert.Equal(0u, ResidentKernelPtx.Grid(Pixels, 3, 393));
        Assert.Equal(0u, ResidentKernelPtx.Grid(16 * 16 * 3, 1, 7));
        Assert.Equal(0u, ResidentKernelPtx.Grid(Pixels, 0, 132));
        Assert.Equal(512, ResidentKernelPtx.MaxInputs);
        Assert.True(ResidentKernelPtx.MaxInputs >= QuantizedKernelPtx.MaxInputs);
    }

    [Theory]
    [MemberData(nameof(IntegerKernels))]
    public void The_integer_kernels_PTX_rounds_ties_to_even_and_takes_weights_of_1(string kernel)
    {
        const int Pixels = 16 * 3;
        var x = TieInputs(Pixels, 31);
        float[] w =
        [
            0.5f, 0.5f, 0, 0, 0, 0, 0, 0,
            0, 0, 0.5f, 0.5f, 0, 0, 0, 0,
            0.25f, 0.25f, 0.25f, 0.25f, 0, 0, 0, 0,
            0, 0, 0, 0, 1f, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 1f,
            0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f,
            0, 0.75f, 0, 0, 0, 0, 0.25f, 0,
            1f / 65536, 0, 0, 0, 0, 0, 0, 65535f / 65536,
            0.5f, 0, 0, 0, 0, 0.5f, 0, 0,
        ];
        var cpu = AssertKernelMatchesCpu(kernel, x, 8, w, 9, Pixels);
        Assert.Equal(254, cpu[0]);
        Assert.Equal(255, cpu[1]);
        Assert.Equal(x.AsSpan(4 * Pixels, Pixels).ToArray(), cpu.AsSpan(3 * Pixels, Pixels).ToArray()); // weight 1: the input
    }

    [Fact]
    public void Rows_off_the_grid_are_left_to_the_float_kernels_and_a_row_holds_a_batch_plus_one_members()
    {
        var row = new int[QuantizedMixTable.Stride(8)];
        Assert.False(QuantizedMixTable.WriteRow([0.3f, 0.7f, 0, 0, 0, 0, 0, 0], row));
        Assert.True(QuantizedMixTable.WriteRow([0, 0, 1f, 0, 0, 0, 0, 0], row));
        Assert.Equal(1, row[0]); // one group: input 2 twice at 32768, two padding members at weight 0
        Assert.Equal([2 * QuantizedKernelPtx.TileBytes, 2 * QuantizedKernelPtx.TileBytes, 2 * QuantizedKernelPtx.TileBytes, 2 * QuantizedKernelPtx.TileBytes], row[4..8]);
        Assert.Equal(0x8080, row[8]); // qh = 128, 128, 0, 0
        Assert.Equal(0, row[9]);
        Assert.Equal(0x8000_8000u, (uint)row[10]); // the pair kernels' whole weights: 32768, 32768; then 0, 0
        Assert.Equal(0, row[11]);
        var full = new float[8];
        Array.Fill(full, 0.125f);
        Assert.True(QuantizedMixTable.WriteRow(full, row));
        Assert.Equal(2, row[0]);
        // A batch with one row off the grid gets no integer table; on the grid, rows as long as its longest needs.
        var table = new int[2 * QuantizedMixTable.Stride(4)];
        Assert.Equal(0, QuantizedMixTable.Write([0.5f, 0.5f, 0, 0, 0.3f, 0.7f, 0, 0], 4, 2, table));
        Assert.Equal(4 + 8, QuantizedMixTable.Write([0.5f, 0.5f, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f], 4, 2, table));
        Assert.Equal(4 + 16, QuantizedMixTable.Write([.. full, 1f, 0, 0, 0, 0, 0, 0, 0], 8, 2, new int[2 * QuantizedMixTable.Stride(8)]));
        Assert.Equal(4 + 16, QuantizedMixTable.Stride(7)); // 8 members at most: two groups
        Assert.Equal(4 + 24, QuantizedMixTable.Stride(8)); // 9 members at most: three groups
    }

    /// <summary>
    /// Eight random inputs of <paramref name="pixels"/> bytes whose odd ones are the even ones plus one (so that halves
    /// of neighbours land on exact .5 marks), pixel 0 of inputs 0 and 1 at 254 and 255 (254.5 → 254), pixel 1 at 255.
    /// </summary>
    internal static byte[] TieInputs(int pixels, int seed)
    {
        var x = new byte[8 * pixels];
        new Random(seed).NextBytes(x);
        for (var j = 1; j < 8; j += 2)
        {
            for (var i = 0; i < pixels; i++)
            {
                x[(j * pixels) + i] = (byte)Math.Min(x[((j - 1) * pixels) + i] + 1, 255);
            }
        }

        x[0] = 254;
        x[pixels] = 255;
        x[1] = 255;
        x[pixels + 1] = 255;
        return x;
    }

    /// <summary>Runs <paramref name="kernel"/>'s PTX as <see cref="CudaMixer"/> launches it and compares every byte with the CPU kernel's.</summary>
    private static byte[] AssertKernelMatchesCpu(string kernel, byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        Assert.Equal(0, pixels % 16);
        var cpu = new byte[outputs * pixels];
        new SparseCpuMixer(inputs, pixels).Mix(x, inputs, w, outputs, cpu);
        Assert.Equal(IntegerReference(x, inputs, w, outputs, pixels), cpu);

        // The table as CudaMixer writes it: rows as long as the batch's longest, in a buffer sized for the largest.
        var words = new int[outputs * QuantizedMixTable.Stride(inputs)];
        Array.Fill(words, unchecked((int)0xA5A5A5A5));
        var stride = QuantizedMixTable.Write(w, inputs, outputs, words);
        Assert.True(stride > 0);
        Assert.Equal(Enumerable.Range(0, outputs).Max(k => QuantizedMixTable.RowWords(w.AsSpan(k * inputs, inputs))), stride);
        var table = new byte[outputs * stride * 4];
        Buffer.BlockCopy(words, 0, table, 0, table.Length);

        var y = new byte[outputs * pixels];
        Array.Fill(y, (byte)0xA5);
        if (kernel == QuantizedKernelPtx.Name)
        {
            var (gridX, gridY, perBlock) = QuantizedMixTable.Geometry(pixels, outputs);
            Assert.Equal((pixels + QuantizedKernelPtx.TileBytes - 1) / QuantizedKernelPtx.TileBytes, (int)gridX);
            Assert.True(gridY * perBlock >= outputs && (gridY - 1) * perBlock < outputs);
            new PtxInterpreter(QuantizedKernelPtx.Source, kernel).Run(gridX, gridY, QuantizedKernelPtx.BlockSize, inputs * QuantizedKernelPtx.TileBytes,
                x, table, y, pixels, stride, inputs, outputs, perBlock);
        }
        else if (kernel == ResidentKernelPtx.Name)
        {
            // A grid of a third as many blocks as chunks (each takes about three in turn, two tiles alternating), with
            // the dynamic shared array 1 KiB into the block's window, as where a GPU reserves the window's first bytes.
            var chunks = ResidentKernelPtx.Chunks(pixels);
            var gridX = (uint)((chunks + 2) / 3);
            var tile = (int)ResidentKernelPtx.RecordBytes(outputs, stride);
            Assert.Equal(0, tile % 16);
            // Twice: copies landing when a wait retires them (a read before its wait shows), then as soon as they are
            // issued (a copy into the tile other threads still mix shows).
            foreach (var early in new[] { false, true })
            {
                Array.Fill(y, (byte)0xA5);
                var interpreter = new PtxInterpreter(ResidentKernelPtx.Source, kernel) { SharedBase = 1024, EarlyCopies = early };
                interpreter.Run(gridX, 1, ResidentKernelPtx.BlockSize, (int)ResidentKernelPtx.SharedBytes(inputs, outputs, stride),
                    x, table, y, pixels, stride, inputs, outputs, tile);
                Assert.True(cpu.AsSpan().SequenceEqual(y), $"copies landing {(early ? "when issued" : "at the wait")}: not the CPU kernel's bytes");
            }
        }
        else
        {
            var (gridX, perBlock, shift) = PairKernelPtx.Geometry(pixels, outputs);
            Assert.Equal((pixels + PairKernelPtx.ChunkBytes - 1) / PairKernelPtx.ChunkBytes, (int)(gridX >> shift));
            Assert.True((perBlock << shift) >= outputs && perBlock % PairKernelPtx.OutputsPerPass == 0);
            new PtxInterpreter(PairKernelPtx.Source, kernel).Run(gridX, 1, PairKernelPtx.BlockSize, (int)PairKernelPtx.SharedBytes(inputs, perBlock, stride),
                x, table, y, pixels, stride, inputs, outputs, perBlock, shift);
        }
        for (var i = 0; i < cpu.Length; i++)
        {
            Assert.True(cpu[i] == y[i], $"byte {i} (output {i / pixels}, pixel byte {i % pixels}): CPU {cpu[i]}, PTX {y[i]}");
        }

        return cpu;
    }

    /// <summary>Σ q·x over each output's members, divided by 65536 and rounded half to even, in integers.</summary>
    private static byte[] IntegerReference(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        var y = new byte[outputs * pixels];
        for (var k = 0; k < outputs; k++)
        {
            for (var i = 0; i < pixels; i++)
            {
                long s = 0;
                for (var j = 0; j < inputs; j++)
                {
                    s += (long)(w[(k * inputs) + j] * PixelWeights.One) * x[(j * pixels) + i];
                }

                y[(k * pixels) + i] = Rounded(s);
            }
        }

        return y;
    }

    /// <summary>A sum of q·x over 65536, rounded half to even.</summary>
    private static byte Rounded(long sum)
    {
        var whole = sum >> 16;
        var rest = sum & 0xFFFF;
        return (byte)(whole + (rest > 0x8000 || (rest == 0x8000 && (whole & 1) == 1) ? 1 : 0));
    }
}
