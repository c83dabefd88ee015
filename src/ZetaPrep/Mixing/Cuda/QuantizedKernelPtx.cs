using System.Globalization;
using System.Text;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// PTX of the integer GPU mixing kernel (its own module, sm_61 and newer for <c>dp4a</c>): for weight rows that
/// <see cref="PixelWeights"/> made (multiples of 2^-16 summing to 1), where the float32 sums of the other kernels are
/// exact, the same bytes from integer dot products, at about a quarter of their instructions per byte.
/// </summary>
/// <remarks>
/// <para>A block takes one chunk of <see cref="TileBytes"/> pixel bytes: first the chunk of every input of the batch into
/// shared memory (each input byte read from device memory once per launch, where the gather of the other kernels reads
/// it from L2 once per output it is a member of), then, 16 bytes per thread and 32 outputs at a time, each output of its
/// range from the tile.</para>
/// <para>An output's members come in groups of four (<see cref="QuantizedMixTable"/>): the tile offsets of the four inputs
/// and each weight q = 256·qh + ql as two words of bytes (qh of the four, ql of the four). Four byte permutes per
/// 4×4-byte block turn four members' words into, per pixel, the four members' bytes in one word, and
/// <c>dp4a</c> adds Σ qh·x and Σ ql·x in one instruction each. The sum S = 256·Σqh·x + Σql·x = Σ q·x is exact; the
/// byte is S / 65536 rounded half to even: (S + 32767 + bit 16 of S) >> 16, below 256 because the q sum to 65536.</para>
/// <para>Parameters: x, table, y, pixels (a multiple of 16), the table's row stride in words, inputs (rows of the
/// tile), outputs, outputs per block (grid y splits the outputs when the image has few chunks). Dynamic shared memory:
/// inputs × <see cref="TileBytes"/>.</para>
/// </remarks>
internal static class QuantizedKernelPtx
{
    /// <summary>The entry's name.</summary>
    public const string Name = "zeta_mix16q";

    /// <summary>Pixel bytes per chunk (a block's tile row per input): 8 threads of 16 bytes per output.</summary>
    public const int TileBytes = 128;

    /// <summary>Threads per block: 32 outputs at a time.</summary>
    public const int BlockSize = 256;

    /// <summary>Outputs a block's threads mix at a time.</summary>
    public const int OutputsPerPass = BlockSize / (TileBytes / 16);

    /// <summary>Inputs the tile can hold within the 48 KiB of shared memory a launch gets without opting in to more.</summary>
    public const int MaxInputs = (48 * 1024) / TileBytes;

    /// <summary>Byte-permute selectors of the 4×4 byte transpose (two members' words interleaved, then the pairs).</summary>
    public const int InterleaveLow = 0x5140, InterleaveHigh = 0x7362, PairLow = 0x5410, PairHigh = 0x7632;

    /// <summary>Byte-permute selector that puts byte 2 of each of two words into bytes 0 and 1.</summary>
    public const int Byte2Of2 = 0x0062;

    /// <summary>The module text (NUL-terminated when handed to the driver).</summary>
    public static string Source { get; } = Build();

    private static string Build()
    {
        var s = new StringBuilder();
        ModuleHeader(s, "sm_61", "zq_tile");
        EntryHeader(s, Name);
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %p<12>;");
        s.AppendLine("    .reg .b32 %r<40>;");
        s.AppendLine("    .reg .b32 %v<16>;");
        s.AppendLine("    .reg .b32 %m<16>;");
        s.AppendLine("    .reg .b32 %t<4>;");
        s.AppendLine("    .reg .b32 %a<4>;");
        s.AppendLine("    .reg .b32 %h<16>;");
        s.AppendLine("    .reg .b32 %l<16>;");
        s.AppendLine("    .reg .b32 %o<4>;");
        s.AppendLine("    .reg .b32 %wh, %wl, %sum, %bit, %lo, %hi, %zero;");
        s.AppendLine("    .reg .b64 %rd<16>;");
        Parameters(s);
        Line(s, "mov.u32 %r7, %ctaid.x;");
        Line(s, "shl.b32 %r8, %r7, 7;"); // the chunk's first pixel byte: ctaid.x · 128
        Line(s, "mov.u32 %r9, zq_tile;");
        Line(s, "shl.b32 %r10, %r3, 3;"); // 16-byte pieces of the tile: inputs · 8
        Line(s, "mov.u32 %r11, %r6;");
        Line(s, "mov.u32 %zero, 0;");

        TileLoad(s, "LOAD", "LOADED");
        Line(s, "bar.sync 0;");

        // 2. This thread's 16 bytes of the chunk (threads past the image's end stop here), for outputs
        //    ctaid.y · per_block + tid / 8, then every 32nd, below min((ctaid.y + 1) · per_block, outputs).
        Line(s, "and.b32 %r19, %r6, 7;");
        Line(s, "shl.b32 %r19, %r19, 4;");
        Line(s, "add.u32 %r20, %r8, %r19;"); // pixel byte within the image
        Line(s, "setp.ge.u32 %p6, %r20, %r1;");
        Line(s, "@%p6 bra DONE;");
        Line(s, "add.u32 %r21, %r9, %r19;"); // this thread's column of the tile
        Line(s, "mov.u32 %r22, %ctaid.y;");
        Line(s, "mul.lo.u32 %r23, %r22, %r5;");
        Line(s, "add.u32 %r24, %r23, %r5;");
        Line(s, "min.u32 %r24, %r24, %r4;");
        Line(s, "shr.u32 %r25, %r6, 3;");
        Line(s, "add.u32 %r23, %r23, %r25;"); // the output
        Line(s, "cvt.u64.u32 %rd9, %r20;");
        Line(s, "add.s64 %rd9, %rd3, %rd9;"); // y + this thread's byte; + output · pixels per output
        s.AppendLine("OUTPUT:");
        Line(s, "setp.ge.u32 %p7, %r23, %r24;");
        Line(s, "@%p7 bra DONE;");
        Line(s, "mul.lo.u32 %r26, %r23, %r2;");
        Line(s, "mul.wide.u32 %rd6, %r26, 4;");
        Line(s, "add.s64 %rd6, %rd2, %rd6;"); // the output's table row
        Line(s, "ld.global.nc.u32 %r27, [%rd6];"); // groups of four members
        Line(s, "add.s64 %rd7, %rd6, 16;");
        // The first group starts the sums (dp4a onto zero), the others add to them. A table row has at least one group.
        Line(s, "setp.eq.u32 %p8, %r27, 0;");
        Line(s, "@%p8 bra EMPTY;");
        Group(s, first: true);
        Line(s, "mov.u32 %r28, 1;");
        Line(s, "setp.ge.u32 %p9, %r28, %r27;");
        Line(s, "@%p9 bra ROUND;");
        s.AppendLine("GROUP:");
        Group(s, first: false);
        Line(s, "add.u32 %r28, %r28, 1;");
        Line(s, "setp.lt.u32 %p9, %r28, %r27;");
        Line(s, "@%p9 bra GROUP;");
        Line(s, "bra ROUND;");
        s.AppendLine("EMPTY:");
        for (var i = 0; i < 16; i++)
        {
            Line(s, $"mov.u32 %h{i}, 0;");
            Line(s, $"mov.u32 %l{i}, 0;");
        }

        s.AppendLine("ROUND:");
        for (var i = 0; i < 16; i++)
        {
            // S = 256·Σqh·x + Σql·x; S + 32767 + bit 16 of S: bits 16..23 are S / 65536 rounded half to even.
            Line(s, $"shl.b32 %sum, %h{i}, 8;");
            Line(s, $"add.u32 %sum, %sum, %l{i};");
            Line(s, "bfe.u32 %bit, %sum, 16, 1;");
            Line(s, "add.u32 %sum, %sum, %bit;");
            Line(s, $"add.u32 %h{i}, %sum, 32767;");
        }

        PackAndStore(s, "%h", "%r23");
        Line(s, $"add.u32 %r23, %r23, {OutputsPerPass};");
        Line(s, "bra OUTPUT;");
        s.AppendLine("DONE:");
        Line(s, "ret;");
        s.AppendLine("}");
        return s.ToString();
    }

    /// <summary>
    /// The start of an integer kernel's module: PTX 7.0 for <paramref name="target"/>, 64-bit addresses, and the dynamic
    /// shared array <paramref name="shared"/>.
    /// </summary>
    internal static void ModuleHeader(StringBuilder s, string target, string shared)
    {
        s.AppendLine(".version 7.0");
        s.AppendLine(CultureInfo.InvariantCulture, $".target {target}");
        s.AppendLine(".address_size 64");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $".extern .shared .align 16 .b8 {shared}[];");
        s.AppendLine();
    }

    /// <summary>
    /// The entry line and parameters of an integer kernel <paramref name="name"/>, the ones <see cref="Parameters"/>
    /// loads: x, table, y, pixels, stride, inputs, outputs and <paramref name="fifth"/> (.u32), then
    /// <paramref name="sixth"/> (.u32) where given.
    /// </summary>
    internal static void EntryHeader(StringBuilder s, string name, string fifth = "p_per_block", string? sixth = null)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $".visible .entry {name}(");
        s.AppendLine("    .param .u64 p_x, .param .u64 p_table, .param .u64 p_y,");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .param .u32 p_pixels, .param .u32 p_stride, .param .u32 p_inputs, .param .u32 p_outputs, .param .u32 {fifth}{(sixth is null ? ")" : ",")}");
        if (sixth is not null)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    .param .u32 {sixth})");
        }
    }

    /// <summary>
    /// The integer kernels' first instructions: the three pointers (global), pixels, stride, inputs, outputs and
    /// outputs per block (or the entry's <paramref name="fifth"/> .u32) into %r1–%r5, and the thread index into %r6.
    /// </summary>
    internal static void Parameters(StringBuilder s, string fifth = "p_per_block")
    {
        Line(s, "ld.param.u64 %rd1, [p_x];");
        Line(s, "ld.param.u64 %rd2, [p_table];");
        Line(s, "ld.param.u64 %rd3, [p_y];");
        Line(s, "cvta.to.global.u64 %rd1, %rd1;");
        Line(s, "cvta.to.global.u64 %rd2, %rd2;");
        Line(s, "cvta.to.global.u64 %rd3, %rd3;");
        Line(s, "ld.param.u32 %r1, [p_pixels];");
        Line(s, "ld.param.u32 %r2, [p_stride];");
        Line(s, "ld.param.u32 %r3, [p_inputs];");
        Line(s, "ld.param.u32 %r4, [p_outputs];");
        Line(s, $"ld.param.u32 %r5, [{fifth}];");
        Line(s, "mov.u32 %r6, %tid.x;");
    }

    /// <summary>
    /// The tile load of both integer kernels (this one and <see cref="PairKernelPtx"/>), from label <paramref name="load"/>
    /// to label <paramref name="loaded"/>: it takes %r1 (pixels), %rd1 (x), %r8 (the chunk's first pixel byte), %r9 (the
    /// tile), %r10 (its 16-byte pieces) and %r11 (the thread's first piece), and uses %r11–%r18, %v0–%v15, %p1–%p5, %rd4
    /// and %rd5.
    /// </summary>
    internal static void TileLoad(StringBuilder s, string load, string loaded)
    {
        // 1. The tile: piece i (input i / 8, bytes 16·(i % 8) of the chunk), four pieces per thread per round, every
        //    load issued before the first store. Pieces past the image's end (its last chunk) are neither read nor used.
        s.AppendLine(CultureInfo.InvariantCulture, $"{load}:");
        Line(s, "setp.ge.u32 %p1, %r11, %r10;");
        Line(s, $"@%p1 bra {loaded};");
        for (var u = 0; u < 4; u++)
        {
            var piece = $"%r{12 + u}";
            Line(s, $"add.u32 {piece}, %r11, {u * BlockSize};");
            Line(s, $"shr.u32 %r16, {piece}, 3;"); // input
            Line(s, $"and.b32 %r17, {piece}, 7;");
            Line(s, "shl.b32 %r17, %r17, 4;");
            Line(s, "add.u32 %r18, %r8, %r17;"); // pixel byte within the image
            Line(s, $"setp.lt.u32 %p{2 + u}, {piece}, %r10;");
            Line(s, $"setp.lt.and.u32 %p{2 + u}, %r18, %r1, %p{2 + u};");
            Line(s, "mul.wide.u32 %rd4, %r16, %r1;");
            Line(s, "cvt.u64.u32 %rd5, %r18;");
            Line(s, "add.s64 %rd4, %rd4, %rd5;");
            Line(s, "add.s64 %rd4, %rd1, %rd4;");
            Line(s, $"@%p{2 + u} ld.global.nc.v4.u32 {{%v{4 * u}, %v{(4 * u) + 1}, %v{(4 * u) + 2}, %v{(4 * u) + 3}}}, [%rd4];");
            Line(s, "shl.b32 %r16, %r16, 7;"); // the input's tile row: input · 128
            Line(s, $"add.u32 {piece}, %r16, %r17;");
            Line(s, $"add.u32 {piece}, {piece}, %r9;");
        }

        for (var u = 0; u < 4; u++)
        {
            Line(s, $"@%p{2 + u} st.shared.v4.u32 [%r{12 + u}], {{%v{4 * u}, %v{(4 * u) + 1}, %v{(4 * u) + 2}, %v{(4 * u) + 3}}};");
        }

        Line(s, $"add.u32 %r11, %r11, {4 * BlockSize};");
        Line(s, $"bra {load};");
        s.AppendLine(CultureInfo.InvariantCulture, $"{loaded}:");
    }

    /// <summary>
    /// The end of both integer kernels' output loop: bits 16..23 of the sixteen rounded sums <paramref name="sums"/>0..15
    /// packed into %v0..%v3 and stored at the output <paramref name="output"/>'s 16 bytes (%rd9: y + this thread's byte;
    /// %r1: pixels); uses %lo, %hi and %rd8.
    /// </summary>
    internal static void PackAndStore(StringBuilder s, string sums, string output)
    {
        for (var j = 0; j < 4; j++)
        {
            PackByte2(s, [$"{sums}{4 * j}", $"{sums}{(4 * j) + 1}", $"{sums}{(4 * j) + 2}", $"{sums}{(4 * j) + 3}"], $"%v{j}");
        }

        Line(s, $"mul.wide.u32 %rd8, {output}, %r1;");
        Line(s, "add.s64 %rd8, %rd9, %rd8;");
        Line(s, "st.global.v4.u32 [%rd8], {%v0, %v1, %v2, %v3};");
    }

    /// <summary>
    /// One group of four members at %rd7 (advanced past it): their 16 bytes each from the tile, transposed per pixel,
    /// and %h[i] += Σ qh·x, %l[i] += Σ ql·x (onto zero for the <paramref name="first"/> group).
    /// </summary>
    private static void Group(StringBuilder s, bool first)
    {
        Line(s, "ld.global.nc.v4.u32 {%o0, %o1, %o2, %o3}, [%rd7];");
        Line(s, "ld.global.nc.v2.u32 {%wh, %wl}, [%rd7+16];");
        for (var m = 0; m < 4; m++)
        {
            Line(s, $"add.u32 %r29, %r21, %o{m};");
            Line(s, $"ld.shared.v4.u32 {{%m{4 * m}, %m{(4 * m) + 1}, %m{(4 * m) + 2}, %m{(4 * m) + 3}}}, [%r29];");
        }

        for (var j = 0; j < 4; j++)
        {
            // Word j of members 0..3 (pixels 4j..4j+3) → per pixel, the four members' bytes.
            Transpose(s, [$"%m{j}", $"%m{4 + j}", $"%m{8 + j}", $"%m{12 + j}"], ["%t0", "%t1", "%t2", "%t3"], ["%a0", "%a1", "%a2", "%a3"]);
            for (var k = 0; k < 4; k++)
            {
                var i = (4 * j) + k;
                Line(s, $"dp4a.u32.u32 %h{i}, %a{k}, %wh, {(first ? "%zero" : $"%h{i}")};");
                Line(s, $"dp4a.u32.u32 %l{i}, %a{k}, %wl, {(first ? "%zero" : $"%l{i}")};");
            }
        }

        Line(s, "add.s64 %rd7, %rd7, 32;");
    }

    /// <summary>Bits 16..23 of the four rounded sums <paramref name="sums"/> into the bytes of <paramref name="to"/>, in order; uses %lo and %hi.</summary>
    internal static void PackByte2(StringBuilder s, string[] sums, string to)
    {
        Line(s, $"prmt.b32 %lo, {sums[0]}, {sums[1]}, {Hex(Byte2Of2)};");
        Line(s, $"prmt.b32 %hi, {sums[2]}, {sums[3]}, {Hex(Byte2Of2)};");
        Line(s, $"prmt.b32 {to}, %lo, %hi, {Hex(PairLow)};");
    }

    /// <summary>
    /// The 4×4 byte transpose: word k of <paramref name="to"/> gets byte k of each word of <paramref name="from"/> (in
    /// order), through <paramref name="temps"/> (two words' bytes interleaved, then the pairs): eight byte permutes.
    /// </summary>
    internal static void Transpose(StringBuilder s, string[] from, string[] temps, string[] to)
    {
        Line(s, $"prmt.b32 {temps[0]}, {from[0]}, {from[1]}, {Hex(InterleaveLow)};");
        Line(s, $"prmt.b32 {temps[1]}, {from[0]}, {from[1]}, {Hex(InterleaveHigh)};");
        Line(s, $"prmt.b32 {temps[2]}, {from[2]}, {from[3]}, {Hex(InterleaveLow)};");
        Line(s, $"prmt.b32 {temps[3]}, {from[2]}, {from[3]}, {Hex(InterleaveHigh)};");
        Line(s, $"prmt.b32 {to[0]}, {temps[0]}, {temps[2]}, {Hex(PairLow)};");
        Line(s, $"prmt.b32 {to[1]}, {temps[0]}, {temps[2]}, {Hex(PairHigh)};");
        Line(s, $"prmt.b32 {to[2]}, {temps[1]}, {temps[3]}, {Hex(PairLow)};");
        Line(s, $"prmt.b32 {to[3]}, {temps[1]}, {temps[3]}, {Hex(PairHigh)};");
    }

    internal static string Hex(int selector) => "0x" + selector.ToString("X4", CultureInfo.InvariantCulture);

    internal static void Line(StringBuilder s, string instruction) => s.Append("    ").AppendLine(instruction);
}
