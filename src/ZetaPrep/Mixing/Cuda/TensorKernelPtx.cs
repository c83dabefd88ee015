using System.Globalization;
using System.Text;
using static ZetaPrep.Mixing.Cuda.QuantizedKernelPtx;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// PTX of the tensor-core kernel (its own module, sm_80 and newer for <c>mma.sync</c> on 8-bit integers and
/// <c>cp.async</c>): the batch's weights as a dense matrix W (outputs × inputs, each weight q on
/// <see cref="PixelWeights"/>' 2^-16 grid split into bytes, q = 256·qh + ql) times the chunk's pixels X, on the integer
/// tensor cores: S = 256·(Wh·X) + Wl·X = Σ q·x, exact in 32 bits, rounded half to even as the other integer kernels do,
/// so the same bytes.
/// </summary>
/// <remarks>
/// <para>The other integer kernels spend an instruction per two members and pixel on <c>dp2a</c> and about as many on
/// the integer pipe (docs/BENCHMARKS-gpu.md: both pipes near 50 % busy, warps waiting for them as often as for data).
/// Here one <c>mma.sync.m16n8k32</c> per warp adds 16 outputs × 8 pixel columns × 32 inputs; the dense product
/// multiplies by the zero weights too (2 · inputs multiply-adds per output byte, against N for the sparse sums), which
/// the tensor cores absorb for small batches: a batch of 32 224² images is ~0.3 G of them, well under a microsecond of an
/// H100's or H200's integer tensor throughput. What is left per output byte is the recombination (one multiply-add),
/// the rounding and the packing. On an H200 (docs/BENCHMARKS-gpu.md) it mixes batches of 32 in flight on four streams
/// at 70–72 % of the HBM copy floor against the resident kernel's 63 %, a launch alone as fast; at 64 inputs as fast in
/// flight, slower alone; at 128 much slower. <see cref="CudaMixer"/> sends it batches of up to 32 inputs.</para>
/// <para>Blocks stay resident as <see cref="ResidentKernelPtx"/>'s do: block b takes chunks b, b + grid, … of
/// <see cref="ChunkBytes"/> pixel bytes, copies its next chunk's tile (every input's bytes of the chunk, cp.async.cg) into
/// the second of two tiles while it mixes the current one. A tile row is one input, its 16-byte pieces XOR-swizzled by
/// bits 2–3 of the input (piece c of input i at c ^ 2·((i / 4) mod 4)), so that the reads below hit 32 different banks.
/// Warp w mixes bytes 32w to 32w + 31 of the chunk for every output: lane (g = lane / 4, t = lane % 4) reads word g
/// (pixels 4g to 4g + 3) of inputs 32k + 4t to 32k + 4t + 3 and 32k + 16 + 4t to 32k + 4t + 19, and eight byte permutes
/// turn them into the B fragments (four inputs' bytes of one pixel per register) of four mma column sets: in set j,
/// column g is pixel 4g + j. The accumulators then hold, for rows g and g + 8 of each 16-output tile, pixels 8t to
/// 8t + 7: two words per row, one 8-byte store each.</para>
/// <para>The weights come as the A fragments of each (16-output, 32-input) tile, per lane 16 bytes of qh then 16 of ql
/// (<see cref="TensorMixTable"/>), staged in shared memory once per block. Per tile of 16 outputs: the qh products into
/// the accumulators (zero to start with), S' = 256·S' + 32767, the ql products onto them, then T + bit 16 of T, whose
/// bits 16..23 are the byte (the same rounding as <see cref="PairKernelPtx"/>).</para>
/// <para>Parameters: x, the fragment table, y, pixels (a multiple of 16), inputs, outputs, input tiles (inputs / 32
/// rounded up, at most <see cref="MaxInputTiles"/>), output tiles (outputs / 16 rounded up), and the byte offset of the
/// first pixel tile in shared memory (after the fragments: <see cref="FragmentBytes"/>). Dynamic shared memory:
/// <see cref="SharedBytes"/>.</para>
/// </remarks>
internal static class TensorKernelPtx
{
    /// <summary>The entry's name.</summary>
    public const string Name = "zeta_mix16t";

    /// <summary>Threads per block: 8 warps.</summary>
    public const int BlockSize = 256;

    /// <summary>Pixel bytes a warp mixes per chunk.</summary>
    public const int SegmentBytes = 32;

    /// <summary>Pixel bytes per chunk: a segment per warp.</summary>
    public const int ChunkBytes = (BlockSize / 32) * SegmentBytes;

    /// <summary>Inputs per mma (its k).</summary>
    public const int InputsPerTile = 32;

    /// <summary>Outputs per mma (its m).</summary>
    public const int OutputsPerTile = 16;

    /// <summary>Input tiles at most (the B fragments of all of them stay in registers).</summary>
    public const int MaxInputTiles = 4;

    /// <summary>Inputs at most.</summary>
    public const int MaxInputs = MaxInputTiles * InputsPerTile;

    /// <summary>Bytes of the A fragments of one (output tile, input tile) pair: 32 lanes × (16 bytes of qh + 16 of ql).</summary>
    public const int FragmentPairBytes = 32 * 32;

    /// <summary>Blocks per multiprocessor at most.</summary>
    public const int MaxBlocksPerMultiprocessor = 3;

    /// <summary>The module text (NUL-terminated when handed to the driver).</summary>
    public static string Source { get; } = Build();

    /// <summary>Input tiles of a batch of <paramref name="inputs"/> inputs.</summary>
    public static int InputTiles(int inputs) => (inputs + InputsPerTile - 1) / InputsPerTile;

    /// <summary>Output tiles of a batch of <paramref name="outputs"/> outputs.</summary>
    public static int OutputTiles(int outputs) => (outputs + OutputsPerTile - 1) / OutputsPerTile;

    /// <summary>Bytes of the fragment table (and of its copy in shared memory).</summary>
    public static long FragmentBytes(int inputs, int outputs) => (long)OutputTiles(outputs) * InputTiles(inputs) * FragmentPairBytes;

    /// <summary>Bytes of one pixel tile: every input tile's 32 rows of <see cref="ChunkBytes"/>.</summary>
    public static long TileBytes(int inputs) => (long)InputTiles(inputs) * InputsPerTile * ChunkBytes;

    /// <summary>Dynamic shared memory of a launch: the fragments, then two pixel tiles.</summary>
    public static long SharedBytes(int inputs, int outputs) => FragmentBytes(inputs, outputs) + (2 * TileBytes(inputs));

    /// <summary>Chunks of an image of <paramref name="pixels"/> bytes.</summary>
    public static int Chunks(int pixels) => (pixels + ChunkBytes - 1) / ChunkBytes;

    /// <summary>
    /// The grid: at most as many blocks as the device holds at once (<paramref name="blocksPerMultiprocessor"/>, at most
    /// <see cref="MaxBlocksPerMultiprocessor"/>, on each of <paramref name="multiprocessors"/>), and no more than it takes
    /// for every block to get the same number of chunks (±1); 0 where no block fits.
    /// </summary>
    public static uint Grid(int pixels, int blocksPerMultiprocessor, int multiprocessors)
    {
        var resident = (long)Math.Min(blocksPerMultiprocessor, MaxBlocksPerMultiprocessor) * multiprocessors;
        if (resident <= 0 || pixels <= 0)
        {
            return 0;
        }

        var chunks = (long)Chunks(pixels);
        var perBlock = (chunks + resident - 1) / resident;
        return (uint)((chunks + perBlock - 1) / perBlock);
    }

    private static string Build()
    {
        var s = new StringBuilder();
        ModuleHeader(s, "sm_80", "zt_smem");
        Entry(s, Name);
        return s.ToString();
    }

    private static void Entry(StringBuilder s, string name)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $".visible .entry {name}(");
        s.AppendLine("    .param .u64 p_x, .param .u64 p_frags, .param .u64 p_y,");
        s.AppendLine("    .param .u32 p_pixels, .param .u32 p_inputs, .param .u32 p_outputs, .param .u32 p_ktiles, .param .u32 p_mtiles, .param .u32 p_tile)");
        s.AppendLine(CultureInfo.InvariantCulture, $".maxntid {BlockSize}, 1, 1");
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %p<12>;");
        s.AppendLine("    .reg .b32 %r<48>;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .b32 %b<{MaxInputTiles * 8}>;");
        s.AppendLine("    .reg .b32 %c<16>;");
        s.AppendLine("    .reg .b32 %a<4>;");
        s.AppendLine("    .reg .b32 %x<8>;");
        s.AppendLine("    .reg .b32 %y<4>;");
        s.AppendLine("    .reg .b32 %w<4>;");
        s.AppendLine("    .reg .b32 %za, %zb, %zc, %zd, %bias, %bit, %lo, %hi;");
        s.AppendLine("    .reg .b64 %rd<16>;");
        Line(s, "ld.param.u64 %rd1, [p_x];");
        Line(s, "ld.param.u64 %rd2, [p_frags];");
        Line(s, "ld.param.u64 %rd3, [p_y];");
        Line(s, "cvta.to.global.u64 %rd1, %rd1;");
        Line(s, "cvta.to.global.u64 %rd2, %rd2;");
        Line(s, "cvta.to.global.u64 %rd3, %rd3;");
        Line(s, "ld.param.u32 %r1, [p_pixels];");
        Line(s, "ld.param.u32 %r2, [p_inputs];");
        Line(s, "ld.param.u32 %r3, [p_outputs];");
        Line(s, "ld.param.u32 %r4, [p_ktiles];");
        Line(s, "ld.param.u32 %r5, [p_mtiles];");
        Line(s, "ld.param.u32 %r6, [p_tile];");
        Line(s, "mov.u32 %r7, %tid.x;");
        Line(s, "mov.u32 %r8, zt_smem;");
        Line(s, "add.u32 %r9, %r8, %r6;"); // the tile of the chunk being mixed
        Line(s, $"mul.lo.u32 %r10, %r4, {InputsPerTile * ChunkBytes};");
        Line(s, "add.u32 %r11, %r9, %r10;"); // the other tile
        Line(s, $"add.u32 %r12, %r1, {ChunkBytes - 1};");
        Line(s, $"shr.u32 %r12, %r12, {PairKernelPtx.Log2(ChunkBytes)};"); // chunks
        Line(s, "mov.u32 %r13, %ctaid.x;"); // this block's chunk
        Line(s, "mov.u32 %r14, %nctaid.x;"); // its step

        // The copy: thread tid takes piece tid % 16 of input rows tid / 16, then every 16th; its place in a tile
        // row is swizzled by bits 2-3 of the row (the same for all its rows).
        Line(s, "shr.u32 %r15, %r7, 4;");
        Line(s, "and.b32 %r16, %r7, 15;");
        Line(s, "shr.u32 %r18, %r15, 2;");
        Line(s, "and.b32 %r18, %r18, 3;");
        Line(s, "shl.b32 %r18, %r18, 1;");
        Line(s, "xor.b32 %r18, %r16, %r18;");
        Line(s, "shl.b32 %r18, %r18, 4;");
        Line(s, $"shl.b32 %r19, %r15, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r17, %r19, %r18;"); // its offset in a tile
        Line(s, "shl.b32 %r20, %r16, 4;"); // its bytes within the chunk
        Line(s, "mul.wide.u32 %rd4, %r15, %r1;");
        Line(s, "cvt.u64.u32 %rd5, %r20;");
        Line(s, "add.s64 %rd4, %rd4, %rd5;");
        Line(s, "add.s64 %rd4, %rd1, %rd4;"); // x + row · pixels + its bytes
        Line(s, "mul.wide.u32 %rd6, %r1, 16;"); // global step per round of rows

        Line(s, "setp.ge.u32 %p1, %r13, %r12;");
        Line(s, $"@%p1 bra DONE_{name};");
        Copy(s, "%r13", "%r9", $"FIRST_{name}");

        // The fragments, 16 bytes per thread in turn, in the same group as the first tile.
        Line(s, "mul.lo.u32 %r22, %r4, %r5;");
        Line(s, "shl.b32 %r22, %r22, 6;"); // 16-byte pieces: 64 per tile pair
        Line(s, "mov.u32 %r21, %r7;");
        s.AppendLine(CultureInfo.InvariantCulture, $"FRAGS_{name}:");
        Line(s, "setp.ge.u32 %p1, %r21, %r22;");
        Line(s, $"@%p1 bra STAGED_{name};");
        Line(s, "shl.b32 %r23, %r21, 4;");
        Line(s, "add.u32 %r24, %r8, %r23;");
        Line(s, "cvt.u64.u32 %rd5, %r23;");
        Line(s, "add.s64 %rd5, %rd2, %rd5;");
        Line(s, "cp.async.cg.shared.global [%r24], [%rd5], 16;");
        Line(s, $"add.u32 %r21, %r21, {BlockSize};");
        Line(s, $"bra FRAGS_{name};");
        s.AppendLine(CultureInfo.InvariantCulture, $"STAGED_{name}:");
        Line(s, "cp.async.commit_group;");

        // The mixing: warp w, lane (g, t).
        Line(s, "shr.u32 %r23, %r7, 5;"); // w
        Line(s, "and.b32 %r24, %r7, 31;"); // lane
        Line(s, "shr.u32 %r25, %r24, 2;"); // g
        Line(s, "and.b32 %r26, %r24, 3;"); // t
        // Word g of the warp's segment in input row 4t (bank-spread by the swizzle): ((2w + g / 4) ^ 2t) · 16 + (g % 4) · 4 + 4t · chunk.
        Line(s, "shl.b32 %r27, %r23, 1;");
        Line(s, "shr.u32 %r28, %r25, 2;");
        Line(s, "add.u32 %r27, %r27, %r28;");
        Line(s, "shl.b32 %r28, %r26, 1;");
        Line(s, "xor.b32 %r27, %r27, %r28;");
        Line(s, "shl.b32 %r27, %r27, 4;");
        Line(s, "and.b32 %r28, %r25, 3;");
        Line(s, "shl.b32 %r28, %r28, 2;");
        Line(s, "add.u32 %r27, %r27, %r28;");
        Line(s, $"shl.b32 %r28, %r26, {PairKernelPtx.Log2(4 * ChunkBytes)};");
        Line(s, "add.u32 %r27, %r27, %r28;");
        Line(s, "shl.b32 %r29, %r24, 5;");
        Line(s, "add.u32 %r29, %r29, %r8;"); // the lane's fragments of the first tile pair
        Line(s, $"shl.b32 %r30, %r23, {PairKernelPtx.Log2(SegmentBytes)};");
        Line(s, "shl.b32 %r28, %r26, 3;");
        Line(s, "add.u32 %r30, %r30, %r28;"); // its 8 output bytes within the chunk: 32w + 8t
        Line(s, "mul.wide.u32 %rd7, %r25, %r1;");
        Line(s, "add.s64 %rd7, %rd3, %rd7;"); // y + g · pixels
        Line(s, "mul.wide.u32 %rd8, %r1, 16;"); // the next output tile's rows
        Line(s, "mul.wide.u32 %rd9, %r1, 8;"); // row g + 8
        Line(s, $"mul.lo.u32 %r31, %r4, {FragmentPairBytes};"); // fragments per output tile
        Line(s, "mov.u32 %bias, 32767;");
        Line(s, "mov.u32 %za, 0;");
        Line(s, "mov.u32 %zb, 0;");
        Line(s, "mov.u32 %zc, 0;");
        Line(s, "mov.u32 %zd, 0;");

        s.AppendLine(CultureInfo.InvariantCulture, $"CHUNK_{name}:");
        Line(s, "setp.ge.u32 %p1, %r13, %r12;");
        Line(s, $"@%p1 bra DONE_{name};");
        Line(s, "add.u32 %r32, %r13, %r14;"); // the block's next chunk: its copy into the other tile, if there is one
        Line(s, "setp.lt.u32 %p2, %r32, %r12;");
        Line(s, $"@!%p2 bra ISSUED_{name};");
        Copy(s, "%r32", "%r11", $"NEXT_{name}");
        s.AppendLine(CultureInfo.InvariantCulture, $"ISSUED_{name}:");
        Line(s, "cp.async.commit_group;"); // one group per chunk, empty or not
        Line(s, "cp.async.wait_group 1;"); // this thread's copies of the current chunk are in
        Line(s, "bar.sync 0;"); // ... and every thread's (and, the first time, the fragments)
        Line(s, $"shl.b32 %r33, %r13, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r34, %r33, %r30;"); // the lane's first output byte within the image
        Line(s, $"shl.b32 %r35, %r23, {PairKernelPtx.Log2(SegmentBytes)};");
        Line(s, "add.u32 %r35, %r33, %r35;");
        Line(s, "setp.ge.u32 %p3, %r35, %r1;");
        Line(s, $"@%p3 bra MIXED_{name};"); // the warp's segment is past the image's end (the last chunk): to the barrier
        Line(s, "setp.lt.u32 %p5, %r34, %r1;"); // the lane's bytes are in the image (the segment may end half way)

        // The B fragments of every input tile: 8 words, two 4×4 byte transposes.
        Line(s, "add.u32 %r36, %r9, %r27;");
        for (var k = 0; k < MaxInputTiles; k++)
        {
            if (k > 0)
            {
                Line(s, $"setp.le.u32 %p4, %r4, {k};");
                Line(s, $"@%p4 bra LOADED_{name};");
            }

            for (var h = 0; h < 2; h++)
            {
                for (var m = 0; m < 4; m++)
                {
                    var row = (k * InputsPerTile) + (16 * h) + m;
                    Line(s, $"ld.shared.u32 %x{(4 * h) + m}, [%r36+{row * ChunkBytes}];");
                }
            }

            for (var h = 0; h < 2; h++)
            {
                var (x, b) = (4 * h, (8 * k) + (4 * h));
                Transpose(s, [$"%x{x}", $"%x{x + 1}", $"%x{x + 2}", $"%x{x + 3}"], ["%y0", "%y1", "%y2", "%y3"], [$"%b{b}", $"%b{b + 1}", $"%b{b + 2}", $"%b{b + 3}"]);
            }
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"LOADED_{name}:");
        Line(s, "cvt.u64.u32 %rd10, %r34;");
        Line(s, "add.s64 %rd10, %rd7, %rd10;"); // row g's bytes
        Line(s, "mov.u32 %r37, %r29;"); // the output tile's fragments
        Line(s, "mov.u32 %r38, %r25;"); // row g's output
        Line(s, "mov.u32 %r39, 0;");
        s.AppendLine(CultureInfo.InvariantCulture, $"TILE_{name}:");
        Line(s, "setp.ge.u32 %p6, %r39, %r5;");
        Line(s, $"@%p6 bra MIXED_{name};");
        Products(s, name, "HIGH", 0, first: true);
        for (var i = 0; i < 16; i++)
        {
            Line(s, $"mad.lo.u32 %c{i}, %c{i}, 256, %bias;");
        }

        Products(s, name, "LOW", 16, first: false);
        for (var i = 0; i < 16; i++)
        {
            // T + bit 16 of T: bits 16..23 are S / 65536 rounded half to even. The add runs as a mad.hi (bit 16 · 2^16 ·
            // 2^16 >> 32) on the multiply-add pipe, which the recombination alone uses; and, shift, add on the integer
            // pipe measured the same (docs/BENCHMARKS-gpu.md).
            Line(s, $"and.b32 %bit, %c{i}, 0x10000;");
            Line(s, $"mad.hi.u32 %c{i}, %bit, 65536, %c{i};");
        }

        // Accumulator e of column set j: row g (e < 2) or g + 8, pixel 8t + 4·(e % 2) + j.
        for (var e = 0; e < 4; e++)
        {
            PackByte2(s, [$"%c{e}", $"%c{4 + e}", $"%c{8 + e}", $"%c{12 + e}"], $"%w{e}");
        }

        Line(s, "setp.lt.and.u32 %p7, %r38, %r3, %p5;");
        Line(s, "@%p7 st.global.v2.u32 [%rd10], {%w0, %w1};");
        Line(s, "add.u32 %r40, %r38, 8;");
        Line(s, "setp.lt.and.u32 %p8, %r40, %r3, %p5;");
        Line(s, "add.s64 %rd11, %rd10, %rd9;");
        Line(s, "@%p8 st.global.v2.u32 [%rd11], {%w2, %w3};");
        Line(s, "add.u32 %r37, %r37, %r31;");
        Line(s, $"add.u32 %r38, %r38, {OutputsPerTile};");
        Line(s, "add.s64 %rd10, %rd10, %rd8;");
        Line(s, "add.u32 %r39, %r39, 1;");
        Line(s, $"bra TILE_{name};");

        s.AppendLine(CultureInfo.InvariantCulture, $"MIXED_{name}:");
        Line(s, "bar.sync 0;"); // every warp is done with this tile before the next copy into it
        Line(s, "mov.u32 %r13, %r32;");
        Line(s, "mov.u32 %r41, %r9;"); // the tiles swap: the one just mixed takes the next copy
        Line(s, "mov.u32 %r9, %r11;");
        Line(s, "mov.u32 %r11, %r41;");
        Line(s, $"bra CHUNK_{name};");
        s.AppendLine(CultureInfo.InvariantCulture, $"DONE_{name}:");
        Line(s, "ret;");
        s.AppendLine("}");
    }

    /// <summary>
    /// The products of one output tile with every input tile (fragments at %r37, <paramref name="half"/> bytes in: qh or
    /// ql), for the four column sets: onto zero (<paramref name="first"/>, first input tile) or onto the accumulators.
    /// </summary>
    private static void Products(StringBuilder s, string name, string part, int half, bool first)
    {
        for (var k = 0; k < MaxInputTiles; k++)
        {
            if (k > 0)
            {
                Line(s, $"setp.le.u32 %p9, %r4, {k};");
                Line(s, $"@%p9 bra {part}_{name};");
            }

            Line(s, $"ld.shared.v4.u32 {{%a0, %a1, %a2, %a3}}, [%r37+{(k * FragmentPairBytes) + half}];");
            for (var j = 0; j < 4; j++)
            {
                var d = $"{{%c{4 * j}, %c{(4 * j) + 1}, %c{(4 * j) + 2}, %c{(4 * j) + 3}}}";
                var c = first && k == 0 ? "{%za, %zb, %zc, %zd}" : d;
                Line(s, $"mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {d}, {{%a0, %a1, %a2, %a3}}, {{%b{(8 * k) + j}, %b{(8 * k) + 4 + j}}}, {c};");
            }
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"{part}_{name}:");
    }

    /// <summary>
    /// Starts the copy of chunk <paramref name="chunk"/>'s pieces of this thread into the tile at <paramref name="tile"/>
    /// (none past the image's end). Uses %r42–%r45, %p10, %p11, %rd12.
    /// </summary>
    private static void Copy(StringBuilder s, string chunk, string tile, string label)
    {
        Line(s, $"shl.b32 %r42, {chunk}, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r43, %r42, %r20;");
        Line(s, "setp.ge.u32 %p10, %r43, %r1;");
        Line(s, $"@%p10 bra {label}_COPIED;");
        Line(s, "cvt.u64.u32 %rd12, %r42;");
        Line(s, "add.s64 %rd12, %rd4, %rd12;");
        Line(s, $"add.u32 %r44, {tile}, %r17;");
        Line(s, "mov.u32 %r45, %r15;");
        s.AppendLine(CultureInfo.InvariantCulture, $"{label}_COPY:");
        Line(s, "setp.ge.u32 %p11, %r45, %r2;");
        Line(s, $"@%p11 bra {label}_COPIED;");
        Line(s, "cp.async.cg.shared.global [%r44], [%rd12], 16;");
        Line(s, "add.s64 %rd12, %rd12, %rd6;");
        Line(s, $"add.u32 %r44, %r44, {16 * ChunkBytes};");
        Line(s, "add.u32 %r45, %r45, 16;");
        Line(s, $"bra {label}_COPY;");
        s.AppendLine(CultureInfo.InvariantCulture, $"{label}_COPIED:");
    }
}
