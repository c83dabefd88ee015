using System.Globalization;
using System.Text;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// PTX source of the fused GPU mixing kernels, generated here so no CUDA compiler is needed to build or run ZetaPrep:
/// the driver JIT-compiles it for whatever GPU it finds (PTX ISA 7.0, sm_52 and newer).
/// </summary>
/// <remarks>
/// <para>One pass over the data: each thread reads its pixels of the N inputs of one output as uint8, widens them to
/// float32, sums <c>w·x</c> in the order of the weight table, rounds half to even, clamps to 0..255 and writes uint8.
/// The arithmetic is exactly <see cref="SparseCpuMixer"/>'s: products and sums use <c>mul.rn</c>/<c>add.rn</c>, which
/// the PTX assembler may not contract into fused multiply-adds, so CPU and GPU produce the same bytes.</para>
/// <para>Weight table, one row of <c>stride</c> 32-bit words per output: member count n, then <c>maxMembers</c> input
/// indices, then <c>maxMembers</c> float32 weights (first n of each used). Grid: x over pixel chunks, y over outputs;
/// blocks of <see cref="BlockSize"/> threads.</para>
/// </remarks>
internal static class MixKernelPtx
{
    /// <summary>
    /// 16 bytes per thread, for pixelsPerImage % 16 == 0 (every row then starts 16-byte aligned): each thread reads its
    /// chunk of the output's N inputs straight from global memory (the batch stays in L2, so device memory sees about one
    /// read of the inputs). A shared-memory tiled variant that reads each input chunk once per block measured 10-15 %
    /// slower on an H100 (bench/notes.md): the kernel is bound by instruction issue, not memory.
    /// </summary>
    public const string Vector16 = "zeta_mix16";

    /// <summary>One byte per thread: any pixelsPerImage.</summary>
    public const string Scalar = "zeta_mix1";

    /// <summary>
    /// <see cref="Vector16"/> with fused multiply-adds: not the CPU's bytes (sums near a .5 boundary may round the other
    /// way), so never used for output; the GPU benchmark measures what the exact arithmetic costs against it.
    /// </summary>
    public const string Vector16Fma = "zeta_mix16_fma";

    /// <summary>
    /// The kernel <see cref="CudaMixer"/> launches when pixelsPerImage % 16 == 0 and the weight table
    /// <see cref="AllowsScaled"/> (ζ weights of any usual γ and N): <see cref="Vector16"/>'s sums with a cheaper widening
    /// (one integer instruction per byte instead of a byte permute and a subtraction) and rounding (two float
    /// instructions instead of two quarter-rate conversions), and the same bytes; see <see cref="ScaledEntry"/>.
    /// </summary>
    public const string Scaled16 = "zeta_mix16s";

    /// <summary>Every entry of the module, in the order the module defines them.</summary>
    public static IReadOnlyList<string> Kernels { get; } = [Vector16, Scalar, Vector16Fma, Scaled16];

    /// <summary>
    /// The smallest non-zero weight <see cref="Scaled16"/> takes: every product w·b (b ≥ 1) then stays a normal float32
    /// after the kernel's 2^-23 scaling, where rounding is the same as unscaled.
    /// </summary>
    public const float MinScaledWeight = 7.888609E-31f; // 2^-100

    public const int BlockSize = 256;

    /// <summary>
    /// Whether <see cref="Scaled16"/> gives the CPU kernel's bytes for weight <paramref name="w"/>: 0 (not in the table), or
    /// 2^-100 ≤ w ≤ 1 (no NaN, no negative weight).
    /// </summary>
    public static bool AllowsScaled(float w) => w == 0f || (w >= MinScaledWeight && w <= 1f);

    /// <summary>Bytes per thread of <paramref name="kernel"/>.</summary>
    public static int BytesPerThread(string kernel) => kernel == Scalar ? 1 : 16;

    /// <summary>The module text (NUL-terminated when handed to the driver).</summary>
    public static string Source { get; } = Build();

    private static string Build()
    {
        var s = new StringBuilder();
        s.AppendLine(".version 7.0");
        s.AppendLine(".target sm_52");
        s.AppendLine(".address_size 64");
        s.AppendLine();
        Entry(s, Vector16, bytesPerThread: 16, fusedMultiplyAdd: false);
        Entry(s, Scalar, bytesPerThread: 1, fusedMultiplyAdd: false);
        Entry(s, Vector16Fma, bytesPerThread: 16, fusedMultiplyAdd: true);
        ScaledEntry(s, Scaled16);
        return s.ToString();
    }

    private static void Entry(StringBuilder s, string name, int bytesPerThread, bool fusedMultiplyAdd)
    {
        var lanes = bytesPerThread;
        EntryHeader(s, name);
        s.AppendLine("    .reg .pred %p<4>;");
        s.AppendLine("    .reg .b32 %r<32>;");
        s.AppendLine("    .reg .b32 %v<4>;");
        s.AppendLine("    .reg .b32 %q<16>;");
        s.AppendLine("    .reg .b32 %o<4>;");
        s.AppendLine("    .reg .f32 %acc<16>;");
        s.AppendLine("    .reg .f32 %w, %t;");
        s.AppendLine("    .reg .b64 %rd<16>;");
        s.AppendLine("    .reg .b32 %magic;");
        s.AppendLine("    mov.b32 %magic, 0x4B000000;");
        Prologue(s, name, lanes);
        for (var i = 0; i < lanes; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    mov.f32 %acc{i}, 0f00000000;");
        }

        s.AppendLine("    mov.u32 %r12, 0;");
        s.AppendLine("    setp.eq.u32 %p2, %r10, 0;");
        s.AppendLine("    @%p2 bra STORE_" + name + ";");
        s.AppendLine(CultureInfo.InvariantCulture, $"LOOP_{name}:");
        s.AppendLine("    ld.global.u32 %r13, [%rd6];");
        s.AppendLine("    ld.global.f32 %w, [%rd8];");
        s.AppendLine("    mul.wide.u32 %rd9, %r13, %r6;");
        s.AppendLine("    add.s64 %rd9, %rd9, %rd10;");
        s.AppendLine("    add.s64 %rd9, %rd1, %rd9;");
        if (lanes == 16)
        {
            s.AppendLine("    ld.global.nc.v4.u32 {%v0, %v1, %v2, %v3}, [%rd9];");
            Unpack(s);
        }
        else
        {
            s.AppendLine("    ld.global.nc.u8 %q0, [%rd9];");
            s.AppendLine("    or.b32 %q0, %q0, %magic;");
        }

        Accumulate(s, lanes, fusedMultiplyAdd);

        s.AppendLine("    add.s64 %rd6, %rd6, 4;");
        s.AppendLine("    add.s64 %rd8, %rd8, 4;");
        s.AppendLine("    add.u32 %r12, %r12, 1;");
        s.AppendLine("    setp.lt.u32 %p3, %r12, %r10;");
        s.AppendLine("    @%p3 bra LOOP_" + name + ";");
        s.AppendLine(CultureInfo.InvariantCulture, $"STORE_{name}:");
        Round(s, lanes);
        if (lanes == 16)
        {
            Pack(s);
        }

        Finish(s, name, lanes == 16 ? "st.global.v4.u32 [%rd11], {%o0, %o1, %o2, %o3};" : "st.global.u8 [%rd11], %q0;");
    }

    /// <summary>
    /// <see cref="Scaled16"/>: 16 bytes (4 words) per thread, the sums of <see cref="Entry"/> with a cheaper widening and
    /// rounding. A byte b masked in place in its word, bits b·2^(8k) with k = 0, 1, 2 (below 2^24), is the float32
    /// b·2^(8k−149) (subnormal up to bit 23, and continuous into the first normal binade), exactly; the fourth byte is
    /// shifted down. The weight is scaled up to match, w·2^(126−8k) (exact for w ≤ 1), so each product is exactly
    /// b·w·2^−23 before rounding, and every product and partial sum is the CPU kernel's times 2^−23: powers of two commute
    /// with rounding while the results stay normal, which w ≥ 2^−100 (<see cref="AllowsScaled"/>) guarantees. The first
    /// member is multiplied straight into the sums (0 + p = p). At the end, min(acc, 255·2^−23) then fma(acc, 2^23, 2^23)
    /// gives 2^23 + (the sum rounded half to even) in one rounding, whose low byte is the output (no negative sums: no
    /// negative weights). The GPU's float32 units take subnormals at full rate; .ftz is never used.
    /// </summary>
    private static void ScaledEntry(StringBuilder s, string name)
    {
        const int Words = 4, Lanes = 16;
        EntryHeader(s, name);
        s.AppendLine("    .reg .pred %p<4>;");
        s.AppendLine("    .reg .b32 %r<16>;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .b32 %v<{Words}>;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .b32 %acc<{Lanes}>;");
        s.AppendLine("    .reg .b32 %e, %t, %lo, %hi;");
        s.AppendLine("    .reg .f32 %w, %wa, %wb, %wc;");
        s.AppendLine("    .reg .b64 %rd<16>;");
        Prologue(s, name, 16);
        s.AppendLine("    setp.eq.u32 %p2, %r10, 0;");
        s.AppendLine("    @%p2 bra ZERO_" + name + ";");
        ScaledMember(s, first: true);
        s.AppendLine("    mov.u32 %r12, 1;");
        s.AppendLine("    setp.ge.u32 %p3, %r12, %r10;");
        s.AppendLine("    @%p3 bra ROUND_" + name + ";");
        s.AppendLine(CultureInfo.InvariantCulture, $"LOOP_{name}:");
        ScaledMember(s, first: false);
        s.AppendLine("    add.u32 %r12, %r12, 1;");
        s.AppendLine("    setp.lt.u32 %p3, %r12, %r10;");
        s.AppendLine("    @%p3 bra LOOP_" + name + ";");
        s.AppendLine("    bra.uni ROUND_" + name + ";");
        s.AppendLine(CultureInfo.InvariantCulture, $"ZERO_{name}:");
        for (var i = 0; i < Lanes; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    mov.b32 %acc{i}, 0;");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"ROUND_{name}:");
        for (var i = 0; i < Lanes; i++)
        {
            // 0f37FF0000 = 255·2^-23; 0f4B000000 = 2^23.
            s.AppendLine(CultureInfo.InvariantCulture, $"    min.f32 %t, %acc{i}, 0f37FF0000;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    fma.rn.f32 %acc{i}, %t, 0f4B000000, 0f4B000000;");
        }

        // The low bytes of four sums into one word, little-endian.
        for (var j = 0; j < Words; j++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    prmt.b32 %lo, %acc{4 * j}, %acc{(4 * j) + 1}, 0x0040;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    prmt.b32 %hi, %acc{(4 * j) + 2}, %acc{(4 * j) + 3}, 0x0040;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    prmt.b32 %v{j}, %lo, %hi, 0x5410;");
        }

        Finish(s, name, "st.global.v4.u32 [%rd11], {%v0, %v1, %v2, %v3};");
    }

    /// <summary>
    /// One member of <see cref="ScaledEntry"/>: its index and weight from the table row (advancing both pointers), its
    /// 16 bytes, and %acc[i] = (first ? 0 : %acc[i]) + byte i · w in the scaled form.
    /// </summary>
    private static void ScaledMember(StringBuilder s, bool first)
    {
        s.AppendLine("    ld.global.u32 %r13, [%rd6];");
        s.AppendLine("    ld.global.f32 %w, [%rd8];");
        s.AppendLine("    add.s64 %rd6, %rd6, 4;");
        s.AppendLine("    add.s64 %rd8, %rd8, 4;");
        s.AppendLine("    mul.wide.u32 %rd9, %r13, %r6;");
        s.AppendLine("    add.s64 %rd9, %rd9, %rd10;");
        s.AppendLine("    add.s64 %rd9, %rd1, %rd9;");
        s.AppendLine("    ld.global.nc.v4.u32 {%v0, %v1, %v2, %v3}, [%rd9];");
        // w·2^126, w·2^118, w·2^110: exact (w ≤ 1).
        s.AppendLine("    mul.rn.f32 %wa, %w, 0f7E800000;");
        s.AppendLine("    mul.rn.f32 %wb, %w, 0f7A800000;");
        s.AppendLine("    mul.rn.f32 %wc, %w, 0f76800000;");
        for (var j = 0; j < 4; j++)
        {
            for (var k = 0; k < 4; k++)
            {
                var i = (4 * j) + k;
                if (k < 3)
                {
                    s.AppendLine(CultureInfo.InvariantCulture, $"    and.b32 %e, %v{j}, {0xFF << (8 * k)};");
                }
                else
                {
                    s.AppendLine(CultureInfo.InvariantCulture, $"    shr.u32 %e, %v{j}, 24;");
                }

                var weight = k switch { 1 => "%wb", 2 => "%wc", _ => "%wa" };
                if (first)
                {
                    s.AppendLine(CultureInfo.InvariantCulture, $"    mul.rn.f32 %acc{i}, %e, {weight};");
                }
                else
                {
                    s.AppendLine(CultureInfo.InvariantCulture, $"    mul.rn.f32 %t, %e, {weight};");
                    s.AppendLine(CultureInfo.InvariantCulture, $"    add.rn.f32 %acc{i}, %acc{i}, %t;");
                }
            }
        }
    }

    /// <summary>The entry line and the parameters every kernel of the module takes.</summary>
    private static void EntryHeader(StringBuilder s, string name)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $".visible .entry {name}(");
        s.AppendLine("    .param .u64 p_x, .param .u64 p_table, .param .u64 p_y,");
        s.AppendLine("    .param .u32 p_pixels, .param .u32 p_stride, .param .u32 p_maxmembers)");
        s.AppendLine("{");
    }

    /// <summary>
    /// Parameters into registers (%rd1 = x, %rd2 = table, %rd3 = y, %r6 = pixels, %r8 = stride, %r11 = maxMembers), this
    /// thread's byte offset within an image (%r5, %rd10; threads past the image go to DONE_), and this output's table row
    /// (%r7 = output, %r10 = member count, %rd6 = its indices, %rd8 = its weights).
    /// </summary>
    private static void Prologue(StringBuilder s, string name, int bytesPerThread)
    {
        s.AppendLine("    ld.param.u64 %rd1, [p_x];");
        s.AppendLine("    ld.param.u64 %rd2, [p_table];");
        s.AppendLine("    ld.param.u64 %rd3, [p_y];");
        s.AppendLine("    cvta.to.global.u64 %rd1, %rd1;");
        s.AppendLine("    cvta.to.global.u64 %rd2, %rd2;");
        s.AppendLine("    cvta.to.global.u64 %rd3, %rd3;");
        s.AppendLine("    ld.param.u32 %r6, [p_pixels];");
        s.AppendLine("    ld.param.u32 %r8, [p_stride];");
        s.AppendLine("    ld.param.u32 %r11, [p_maxmembers];");
        // Byte offset of this thread's first pixel within an image: (ctaid.x * ntid.x + tid.x) * bytesPerThread.
        s.AppendLine("    mov.u32 %r1, %ctaid.x;");
        s.AppendLine("    mov.u32 %r2, %ntid.x;");
        s.AppendLine("    mov.u32 %r3, %tid.x;");
        s.AppendLine("    mad.lo.u32 %r4, %r1, %r2, %r3;");
        s.AppendLine(bytesPerThread == 16 ? "    shl.b32 %r5, %r4, 4;" : "    mov.u32 %r5, %r4;");
        s.AppendLine("    setp.ge.u32 %p1, %r5, %r6;");
        s.AppendLine("    @%p1 bra DONE_" + name + ";");
        s.AppendLine("    cvt.u64.u32 %rd10, %r5;");
        // This output's table row: table + ctaid.y * stride * 4; indices at +4, weights at +4 + 4 * maxMembers.
        s.AppendLine("    mov.u32 %r7, %ctaid.y;");
        s.AppendLine("    mul.lo.u32 %r9, %r7, %r8;");
        s.AppendLine("    mul.wide.u32 %rd4, %r9, 4;");
        s.AppendLine("    add.s64 %rd5, %rd2, %rd4;");
        s.AppendLine("    ld.global.u32 %r10, [%rd5];");
        s.AppendLine("    add.s64 %rd6, %rd5, 4;");
        s.AppendLine("    mul.wide.u32 %rd7, %r11, 4;");
        s.AppendLine("    add.s64 %rd8, %rd6, %rd7;");
    }

    /// <summary>The output address (%rd11 = y + output · pixels + offset), <paramref name="store"/>, and the end of the entry.</summary>
    private static void Finish(StringBuilder s, string name, string store)
    {
        s.AppendLine("    mul.wide.u32 %rd11, %r7, %r6;");
        s.AppendLine("    add.s64 %rd11, %rd11, %rd10;");
        s.AppendLine("    add.s64 %rd11, %rd3, %rd11;");
        s.AppendLine("    " + store);
        s.AppendLine(CultureInfo.InvariantCulture, $"DONE_{name}:");
        s.AppendLine("    ret;");
        s.AppendLine("}");
        s.AppendLine();
    }

    /// <summary>
    /// %acc[i] += %w · byte i, for the bytes in %q0.. (already merged into 0x4B000000 by prmt/or): (2^23 + byte) − 2^23 is
    /// the byte as float32, exactly, at full FP32 rate (cvt runs at a quarter of it).
    /// </summary>
    private static void Accumulate(StringBuilder s, int lanes, bool fusedMultiplyAdd)
    {
        for (var i = 0; i < lanes; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    sub.rn.f32 %t, %q{i}, 0f4B000000;");
            if (fusedMultiplyAdd)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"    fma.rn.f32 %acc{i}, %w, %t, %acc{i};");
            }
            else
            {
                // Product rounded, then sum rounded: no fused multiply-add, like the CPU kernel.
                s.AppendLine("    mul.rn.f32 %t, %w, %t;");
                s.AppendLine(CultureInfo.InvariantCulture, $"    add.rn.f32 %acc{i}, %acc{i}, %t;");
            }
        }
    }

    /// <summary>%q[i] = the byte of %acc[i]: round half to even, clamp to 0..255 (255 = 0x437F0000), exact conversion.</summary>
    private static void Round(StringBuilder s, int lanes)
    {
        for (var i = 0; i < lanes; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    cvt.rni.f32.f32 %t, %acc{i};");
            s.AppendLine("    max.f32 %t, %t, 0f00000000;");
            s.AppendLine("    min.f32 %t, %t, 0f437F0000;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    cvt.rzi.u32.f32 %q{i}, %t;");
        }
    }

    /// <summary>Packs the 16 bytes in %q0..%q15 into %o0..%o3, little-endian.</summary>
    private static void Pack(StringBuilder s)
    {
        for (var word = 0; word < 4; word++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    bfi.b32 %o{word}, %q{word * 4 + 1}, %q{word * 4}, 8, 8;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    bfi.b32 %o{word}, %q{word * 4 + 2}, %o{word}, 16, 8;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    bfi.b32 %o{word}, %q{word * 4 + 3}, %o{word}, 24, 8;");
        }
    }

    /// <summary>Byte i of the 16 in %v0..%v3 into the low byte of 0x4B000000 (%magic), into %q[i].</summary>
    private static void Unpack(StringBuilder s)
    {
        for (var i = 0; i < 16; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    prmt.b32 %q{i}, %v{i / 4}, %magic, 0x744{i % 4};");
        }
    }
}
