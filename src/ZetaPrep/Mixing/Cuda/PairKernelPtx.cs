using System.Globalization;
using System.Text;
using static ZetaPrep.Mixing.Cuda.QuantizedKernelPtx;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// PTX of the pair kernel (its own module, sm_61 and newer for <c>dp2a</c>): the integer sums of
/// <see cref="QuantizedKernelPtx"/> (weights on <see cref="PixelWeights"/>' 2^-16 grid, S = Σ q·x exact, rounded half to
/// even) from two-way dot products of 16-bit weights and bytes, with the weight table in shared memory.
/// </summary>
/// <remarks>
/// <para>Where <see cref="QuantizedKernelPtx"/> transposes four members' words into one word per pixel and adds
/// Σ qh·x and Σ ql·x with two <c>dp4a</c>, these take members in pairs: one byte permute interleaves two members' words
/// so that each half word holds one pixel of both, and <c>dp2a.lo</c> / <c>dp2a.hi</c> add q0·x0 + q1·x1 for that pixel
/// with the two whole 16-bit weights (q &lt; 65536: the table splits a weight of 1 in two). The sum comes out whole, so
/// there is nothing to recombine, and it starts at 32767, so the rounding is T + bit 16 of T (bits 16..23 of the result
/// are S / 65536 rounded half to even). Per output byte and pair of members: half a permute and one dp2a, against one
/// permute and one dp4a per member before.</para>
/// <para>A block loads its chunk of every input (as <see cref="QuantizedKernelPtx"/>) and, alongside, its outputs' rows of
/// the weight table as 16-byte records (two words of packed 16-bit tile offsets, two words of packed 16-bit weights,
/// groups past a row's end zeroed), so the mixing loop reads nothing from device memory but the tile: no output waits
/// on a global load of its weights.</para>
/// <para>Parameters as <see cref="QuantizedKernelPtx"/>'s (x, table, y, pixels, the table's row stride in words, inputs,
/// outputs, outputs per block) and the same table (<see cref="QuantizedMixTable"/>: it carries the 16-bit weight pairs
/// in words 6 and 7 of each group). Dynamic shared memory: <see cref="SharedBytes"/>.</para>
/// </remarks>
internal static class PairKernelPtx
{
    /// <summary>The entry's name.</summary>
    public const string Name = "zeta_mix16p";

    /// <summary>Pixel bytes per chunk (a block's tile row per input): 8 threads of 16 bytes per output.</summary>
    public const int ChunkBytes = QuantizedKernelPtx.TileBytes;

    /// <summary>Threads per block: <see cref="QuantizedKernelPtx"/>'s, whose tile load this kernel runs.</summary>
    public const int BlockSize = QuantizedKernelPtx.BlockSize;

    /// <summary>Threads per output: 16 bytes each.</summary>
    public const int ThreadsPerOutput = ChunkBytes / 16;

    /// <summary>Outputs a block mixes at a time.</summary>
    public const int OutputsPerPass = QuantizedKernelPtx.OutputsPerPass;

    /// <summary>Bytes of one group's record in shared memory.</summary>
    public const int RecordBytes = 16;

    /// <summary>The shared memory a launch gets without opting in to more.</summary>
    public const int MaxSharedBytes = 48 * 1024;

    /// <summary>The module text (NUL-terminated when handed to the driver).</summary>
    public static string Source { get; } = Build();

    /// <summary>Groups of four members per row of a table with rows of <paramref name="rowWords"/> words.</summary>
    public static int Groups(int rowWords) => (rowWords - 4) / 8;

    /// <summary>Dynamic shared memory of a launch: the tile, then <paramref name="perBlock"/> rows of records.</summary>
    public static long SharedBytes(int inputs, int perBlock, int rowWords) =>
        ((long)inputs * ChunkBytes) + ((long)perBlock * Groups(rowWords) * RecordBytes);

    /// <summary>
    /// The launch shape: 2^PartsShift neighbouring blocks per chunk (block x takes chunk x &gt;&gt; PartsShift and the
    /// (x mod 2^PartsShift)th run of <c>PerBlock</c> outputs), as many as <see cref="QuantizedMixTable.Geometry(int, int)"/>
    /// splits the outputs into where the image has too few chunks to fill the GPU (else one). Parts past the last output
    /// return at once.
    /// </summary>
    public static (uint GridX, int PerBlock, int PartsShift) Geometry(int pixels, int outputs)
    {
        var (chunks, split, _) = QuantizedMixTable.Geometry(pixels, outputs);
        var passes = Math.Max(1, (outputs + OutputsPerPass - 1) / OutputsPerPass);
        var shift = split <= 1 ? 0 : System.Numerics.BitOperations.Log2(split - 1) + 1;
        var perBlock = ((passes + (1 << shift) - 1) >> shift) * OutputsPerPass;
        return (chunks << shift, perBlock, shift);
    }

    /// <summary>Whether a batch's launch fits the shared memory a block gets (else <see cref="QuantizedKernelPtx"/> mixes it).</summary>
    public static bool Fits(int pixels, int inputs, int outputs, int rowWords)
    {
        var (gridX, perBlock, _) = Geometry(pixels, outputs);
        return (gridX >> 31) == 0 && SharedBytes(inputs, perBlock, rowWords) <= MaxSharedBytes;
    }

    private static string Build()
    {
        var s = new StringBuilder();
        ModuleHeader(s, "sm_61", "zp_smem");
        Entry(s);

        return s.ToString();
    }

    private static void Entry(StringBuilder s)
    {
        var chunkShift = Log2(ChunkBytes);
        var pieceShift = Log2(ThreadsPerOutput); // 16-byte pieces per tile row
        EntryHeader(s, Name, sixth: "p_parts_shift");
        s.AppendLine("{");
        Registers(s, 48, 16);
        QuantizedKernelPtx.Parameters(s);
        Line(s, "ld.param.u32 %r35, [p_parts_shift];");
        Line(s, "mov.u32 %r36, %ctaid.x;");
        Line(s, "shr.u32 %r7, %r36, %r35;"); // the chunk
        Line(s, "mov.u32 %r37, 1;");
        Line(s, "shl.b32 %r37, %r37, %r35;");
        Line(s, "add.u32 %r37, %r37, 0xFFFFFFFF;");
        Line(s, "and.b32 %r38, %r36, %r37;"); // the part of its outputs
        Line(s, $"shl.b32 %r8, %r7, {chunkShift};"); // the chunk's first pixel byte
        Line(s, "mov.u32 %r9, zp_smem;"); // the tile
        Line(s, $"shl.b32 %r10, %r3, {pieceShift};"); // 16-byte pieces of the tile
        Line(s, $"shl.b32 %r30, %r3, {chunkShift};");
        Line(s, "add.u32 %r30, %r30, %r9;"); // the records, after the tile
        Line(s, "shr.u32 %r31, %r2, 3;"); // groups per row: (stride - 4) / 8
        Line(s, "mul.lo.u32 %r23, %r38, %r5;"); // the block's first output
        Line(s, "add.u32 %r24, %r23, %r5;");
        Line(s, "min.u32 %r24, %r24, %r4;"); // past its last
        Line(s, "setp.ge.u32 %p1, %r23, %r4;");
        Line(s, $"@%p1 bra DONE_{Name};"); // a part past the last output: the whole block, before any barrier
        Line(s, "mov.u32 %r11, %r6;");

        // 1. The tile, as QuantizedKernelPtx loads it.
        QuantizedKernelPtx.TileLoad(s, $"LOAD_{Name}", $"LOADED_{Name}");

        // 2. The records of the block's outputs, one output per thread: per group, the four tile offsets (the table's
        //    input · 128, here input · chunk) as two words of 16-bit halves, and the weight pairs (table words 6, 7);
        //    groups past the row's count get offsets 0 and weights 0.
        StageRecords(s, Name);
        s.AppendLine($"STAGED_{Name}:");
        Line(s, "bar.sync 0;");

        // 3. This thread's 16 bytes of the chunk for outputs first + tid / threadsPerOutput, then every passth.
        Line(s, $"and.b32 %r19, %r6, {ThreadsPerOutput - 1};");
        Line(s, "shl.b32 %r19, %r19, 4;");
        Line(s, "add.u32 %r20, %r8, %r19;"); // pixel byte within the image
        Line(s, "setp.ge.u32 %p6, %r20, %r1;");
        Line(s, $"@%p6 bra DONE_{Name};");
        Line(s, "add.u32 %r21, %r9, %r19;"); // this thread's column of the tile
        Line(s, "prmt.b32 %r25, %r21, %r21, 0x5410;"); // ... in both halves
        Line(s, $"shr.u32 %r26, %r6, {pieceShift};"); // the thread's first output within the block
        Line(s, "shl.b32 %r27, %r31, 4;"); // record bytes per output
        Line(s, "mul.lo.u32 %r28, %r26, %r27;");
        Line(s, "add.u32 %r28, %r28, %r30;"); // its records
        Line(s, $"mul.lo.u32 %r29, %r27, {OutputsPerPass};");
        Line(s, "add.u32 %r32, %r23, %r26;"); // the output
        Line(s, "cvt.u64.u32 %rd9, %r20;");
        Line(s, "add.s64 %rd9, %rd3, %rd9;");
        Line(s, "mov.u32 %bias, 32767;");
        Outputs(s, Name, $"DONE_{Name}", wideBase: null);
        s.AppendLine($"DONE_{Name}:");
        Line(s, "ret;");
        s.AppendLine("}");
    }

    /// <summary>
    /// The register declarations of a kernel that runs <see cref="StageRecords"/> and <see cref="Outputs"/>: %r0 to
    /// %r(<paramref name="words"/> − 1) and %rd0 to %rd(<paramref name="addresses"/> − 1) besides their own.
    /// </summary>
    internal static void Registers(StringBuilder s, int words, int addresses)
    {
        s.AppendLine("    .reg .pred %p<12>;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .b32 %r<{words}>;");
        s.AppendLine("    .reg .b32 %v<16>;");
        s.AppendLine("    .reg .b32 %m<16>;");
        s.AppendLine("    .reg .b32 %t<4>;");
        s.AppendLine("    .reg .b32 %a<4>;");
        s.AppendLine("    .reg .b32 %c<16>;");
        s.AppendLine("    .reg .b32 %pa, %pb, %wa, %wb, %bit, %lo, %hi, %bias;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .b64 %rd<{addresses}>;");
    }

    /// <summary>
    /// The staging of weight records (labels suffixed <paramref name="suffix"/>): outputs %r23 up to %r24, one per
    /// thread from %r6 in steps of <see cref="BlockSize"/>, each row of the table (%rd2, stride %r2 words, %r31 groups) as
    /// 16-byte records from %r30 on: per group, the four tile offsets (the table's input · 128, here input · chunk) as
    /// two words of 16-bit halves, and the weight pairs (table words 6, 7); groups past the row's count get offsets 0 and
    /// weights 0. Uses %r12–%r17, %v0–%v5, %pa, %pb, %p1–%p3, %rd4, %rd5. No barrier.
    /// </summary>
    internal static void StageRecords(StringBuilder s, string suffix)
    {
        Line(s, "mov.u32 %r12, %r6;");
        s.AppendLine($"STAGE_{suffix}:");
        Line(s, "add.u32 %r13, %r23, %r12;");
        Line(s, "setp.ge.u32 %p1, %r13, %r24;");
        Line(s, $"@%p1 bra STAGED_{suffix};");
        Line(s, "mul.lo.u32 %r14, %r13, %r2;");
        Line(s, "mul.wide.u32 %rd4, %r14, 4;");
        Line(s, "add.s64 %rd4, %rd2, %rd4;"); // the output's table row
        Line(s, "ld.global.nc.u32 %r15, [%rd4];"); // its groups
        Line(s, "add.s64 %rd5, %rd4, 16;");
        Line(s, "mul.lo.u32 %r16, %r12, %r31;");
        Line(s, "shl.b32 %r16, %r16, 4;");
        Line(s, "add.u32 %r16, %r16, %r30;"); // its first record
        Line(s, "mov.u32 %r17, 0;");
        s.AppendLine($"RECORD_{suffix}:");
        Line(s, "ld.global.nc.v4.u32 {%v0, %v1, %v2, %v3}, [%rd5];");
        Line(s, "ld.global.nc.v2.u32 {%v4, %v5}, [%rd5+24];");
        Line(s, "prmt.b32 %pa, %v0, %v1, 0x5410;");
        Line(s, "prmt.b32 %pb, %v2, %v3, 0x5410;");
        Line(s, "setp.lt.u32 %p2, %r17, %r15;");
        Line(s, "@!%p2 mov.u32 %pa, 0;");
        Line(s, "@!%p2 mov.u32 %pb, 0;");
        Line(s, "@!%p2 mov.u32 %v4, 0;");
        Line(s, "@!%p2 mov.u32 %v5, 0;");
        Line(s, "st.shared.v4.u32 [%r16], {%pa, %pb, %v4, %v5};");
        Line(s, "add.u32 %r16, %r16, 16;");
        Line(s, "add.s64 %rd5, %rd5, 32;");
        Line(s, "add.u32 %r17, %r17, 1;");
        Line(s, "setp.lt.u32 %p3, %r17, %r31;");
        Line(s, $"@%p3 bra RECORD_{suffix};");
        Line(s, $"add.u32 %r12, %r12, {BlockSize};");
        Line(s, $"bra STAGE_{suffix};");
    }

    /// <summary>
    /// The output loop (labels suffixed <paramref name="suffix"/>; to <paramref name="exit"/> once output %r32 reaches
    /// %r24): per output, its groups' records from %r28 (%r31 groups; %r29 is the records of a pass), the sums %c0–%c15
    /// of this thread's 16 bytes, rounded half to even, packed and stored at %rd9 + output · %r1; then the output
    /// <see cref="OutputsPerPass"/> on. Tile addresses: %r25 (the thread's column in both 16-bit halves) added to the packed
    /// offsets, or, with <paramref name="wideBase"/>, each offset unpacked and that 32-bit register (the tile's column) added.
    /// </summary>
    internal static void Outputs(StringBuilder s, string suffix, string exit, string? wideBase)
    {
        s.AppendLine($"OUTPUT_{suffix}:");
        Line(s, "setp.ge.u32 %p7, %r32, %r24;");
        Line(s, $"@%p7 bra {exit};");
        Line(s, "mov.u32 %r33, %r28;");
        Group(s, first: true, wideBase);
        Line(s, "mov.u32 %r34, 1;");
        Line(s, "setp.ge.u32 %p9, %r34, %r31;");
        Line(s, $"@%p9 bra ROUND_{suffix};");
        s.AppendLine($"GROUP_{suffix}:");
        Group(s, first: false, wideBase);
        Line(s, "add.u32 %r34, %r34, 1;");
        Line(s, "setp.lt.u32 %p9, %r34, %r31;");
        Line(s, $"@%p9 bra GROUP_{suffix};");
        s.AppendLine($"ROUND_{suffix}:");
        for (var i = 0; i < 16; i++)
        {
            // T = S + 32767; T + bit 16 of T: bits 16..23 are S / 65536 rounded half to even.
            Line(s, $"and.b32 %bit, %c{i}, 0x10000;");
            Line(s, "shr.u32 %bit, %bit, 16;");
            Line(s, $"add.u32 %c{i}, %c{i}, %bit;");
        }

        PackAndStore(s, "%c", "%r32");
        Line(s, $"add.u32 %r32, %r32, {OutputsPerPass};");
        Line(s, "add.u32 %r28, %r28, %r29;");
        Line(s, $"bra OUTPUT_{suffix};");
    }

    /// <summary>
    /// The group whose record is at %r33 (advanced past it): four members' 16 bytes from the tile, interleaved in pairs,
    /// and %c[i] += q0·x0 + q1·x1 + q2·x2 + q3·x3 for pixel i (onto 32767 for the <paramref name="first"/> group).
    /// </summary>
    private static void Group(StringBuilder s, bool first, string? wideBase)
    {
        Line(s, "ld.shared.v4.u32 {%pa, %pb, %wa, %wb}, [%r33];");
        Line(s, "add.u32 %r33, %r33, 16;");
        if (wideBase is null)
        {
            Line(s, "add.u32 %pa, %pa, %r25;");
            Line(s, "add.u32 %pb, %pb, %r25;");
        }

        Line(s, "and.b32 %a0, %pa, 0xFFFF;");
        Line(s, "shr.u32 %a1, %pa, 16;");
        Line(s, "and.b32 %a2, %pb, 0xFFFF;");
        Line(s, "shr.u32 %a3, %pb, 16;");
        if (wideBase is not null)
        {
            for (var m = 0; m < 4; m++)
            {
                Line(s, $"add.u32 %a{m}, %a{m}, {wideBase};");
            }
        }

        for (var m = 0; m < 4; m++)
        {
            Line(s, $"ld.shared.v4.u32 {{%m{4 * m}, %m{(4 * m) + 1}, %m{(4 * m) + 2}, %m{(4 * m) + 3}}}, [%a{m}];");
        }

        for (var j = 0; j < 4; j++)
        {
            // Word j of each pair (pixels 4j..4j+3) → (x0, x1) of pixels 4j, 4j+1 in %t0 / %t2, of 4j+2, 4j+3 in %t1 / %t3.
            Line(s, $"prmt.b32 %t0, %m{j}, %m{4 + j}, {Hex(QuantizedKernelPtx.InterleaveLow)};");
            Line(s, $"prmt.b32 %t1, %m{j}, %m{4 + j}, {Hex(QuantizedKernelPtx.InterleaveHigh)};");
            Line(s, $"prmt.b32 %t2, %m{8 + j}, %m{12 + j}, {Hex(QuantizedKernelPtx.InterleaveLow)};");
            Line(s, $"prmt.b32 %t3, %m{8 + j}, %m{12 + j}, {Hex(QuantizedKernelPtx.InterleaveHigh)};");
            for (var k = 0; k < 4; k++)
            {
                var i = (4 * j) + k;
                var half = k % 2 == 0 ? "lo" : "hi";
                var (a, b) = k < 2 ? ("%t0", "%t2") : ("%t1", "%t3");
                Line(s, $"dp2a.{half}.u32.u32 %c{i}, %wa, {a}, {(first ? "%bias" : $"%c{i}")};");
                Line(s, $"dp2a.{half}.u32.u32 %c{i}, %wb, {b}, %c{i};");
            }
        }
    }

    /// <summary>The exponent of a power of two (chunk and tile sizes as shift counts).</summary>
    internal static int Log2(int value) => System.Numerics.BitOperations.Log2((uint)value);

}
