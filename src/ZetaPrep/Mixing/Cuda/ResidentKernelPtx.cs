using System.Globalization;
using System.Text;
using static ZetaPrep.Mixing.Cuda.QuantizedKernelPtx;

namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// PTX of the resident pair kernel (its own module, sm_80 and newer for <c>cp.async</c>): <see cref="PairKernelPtx"/>'s
/// arithmetic (16-bit weights, <c>dp2a</c> over pairs of members, the same bytes), with blocks that stay resident and
/// load the next chunk's tile while they mix the current one.
/// </summary>
/// <remarks>
/// <para>The pair kernel's blocks each load one chunk of every input, then mix it; a launch's first wave of blocks all
/// load at once and no multiprocessor mixes until its tiles are in, which left it at half the device's memory bandwidth
/// (docs/BENCHMARKS-gpu.md). Here a grid of at most as many blocks as fit on the device at once takes the chunks in turn
/// (block b: chunks b, b + grid, …): each block stages every output's weight records in shared memory once, starts
/// the asynchronous copy (<c>cp.async.cg</c>, 16 bytes per thread and input row, past L1) of its first chunk's tile,
/// and then, per chunk, starts the copy of its next chunk into the other of two tiles before it waits for the current
/// one and mixes it. Two barriers per chunk: the first makes the copied tile visible to every thread, the second keeps
/// the next copy from overwriting a tile still being read. On an H200 this mixes a batch of 256 224² images in ~30 µs
/// against ~37 µs for the pair kernel, 61–62 % of the device's copy bandwidth (docs/BENCHMARKS-gpu.md).</para>
/// <para>Parameters: x, table, y, pixels (a multiple of 16), the table's row stride in words, inputs, outputs, and the
/// byte offset of the first tile in shared memory (after the records, <see cref="RecordBytes"/>). Dynamic shared memory:
/// <see cref="SharedBytes"/>, usually over the 48 KiB a launch gets without opting in (the mixer raises the kernel's
/// limit to the device's). The records hold tile offsets as 16-bit halves (inputs · 128 below 65536); the tile's
/// address is added after unpacking, so the tiles may lie anywhere in the block's shared window.</para>
/// </remarks>
internal static class ResidentKernelPtx
{
    /// <summary>The entry's name.</summary>
    public const string Name = "zeta_mix16r";

    /// <summary>Threads per block (the pair kernel's).</summary>
    public const int BlockSize = PairKernelPtx.BlockSize;

    /// <summary>Pixel bytes per chunk (the pair kernel's).</summary>
    public const int ChunkBytes = PairKernelPtx.ChunkBytes;

    /// <summary>Input rows a block's threads copy at a time: 8 threads of 16 bytes per row.</summary>
    public const int RowsPerRound = BlockSize / (ChunkBytes / 16);

    /// <summary>
    /// Blocks per multiprocessor at most (of <see cref="BlockSize"/> threads), even where more fit: on the H200, three
    /// resident blocks mixed batches of 32 to 128 faster than four (fewer blocks take more chunks each, so less of the
    /// launch waits for first tiles; docs/BENCHMARKS-gpu.md).
    /// </summary>
    public const int MaxBlocksPerMultiprocessor = 3;

    /// <summary>Inputs whose tile offsets (input · <see cref="ChunkBytes"/>) fit a record's 16-bit halves.</summary>
    public const int MaxInputs = 65536 / ChunkBytes;

    /// <summary>The module text (NUL-terminated when handed to the driver).</summary>
    public static string Source { get; } = Build();

    /// <summary>Bytes of every output's weight records (all of them staged once per block).</summary>
    public static long RecordBytes(int outputs, int rowWords) => (long)outputs * PairKernelPtx.Groups(rowWords) * PairKernelPtx.RecordBytes;

    /// <summary>Dynamic shared memory of a launch: the records, then two tiles.</summary>
    public static long SharedBytes(int inputs, int outputs, int rowWords) =>
        RecordBytes(outputs, rowWords) + (2L * inputs * ChunkBytes);

    /// <summary>Chunks of an image of <paramref name="pixels"/> bytes.</summary>
    public static int Chunks(int pixels) => (pixels + ChunkBytes - 1) / ChunkBytes;

    /// <summary>
    /// The grid: as many blocks as the device holds at once (<paramref name="blocksPerMultiprocessor"/> on each of
    /// <paramref name="multiprocessors"/>), at most one per chunk; 0 where the image has fewer chunks than that (too few
    /// for blocks to take turns: the pair kernel, which splits outputs over blocks, fills the device better) or no block
    /// fits.
    /// </summary>
    public static uint Grid(int pixels, int blocksPerMultiprocessor, int multiprocessors)
    {
        var resident = (long)Math.Min(blocksPerMultiprocessor, MaxBlocksPerMultiprocessor) * multiprocessors;
        return resident <= 0 || Chunks(pixels) < resident ? 0u : (uint)resident;
    }

    private static string Build()
    {
        var s = new StringBuilder();
        ModuleHeader(s, "sm_80", "zr_smem");
        EntryHeader(s, Name, "p_tile");
        s.AppendLine(CultureInfo.InvariantCulture, $".maxntid {BlockSize}, 1, 1");
        s.AppendLine("{");
        PairKernelPtx.Registers(s, 56, 24);
        Parameters(s, "p_tile");
        Line(s, "mov.u32 %r9, zr_smem;");
        Line(s, "mov.u32 %r30, %r9;"); // the records, first
        Line(s, "shr.u32 %r31, %r2, 3;"); // groups per row: (stride - 4) / 8
        Line(s, "add.u32 %r43, %r9, %r5;"); // the tile of the chunk being mixed
        Line(s, $"shl.b32 %r10, %r3, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r44, %r43, %r10;"); // the other tile
        Line(s, $"add.u32 %r40, %r1, {ChunkBytes - 1};");
        Line(s, $"shr.u32 %r40, %r40, {PairKernelPtx.Log2(ChunkBytes)};"); // chunks
        Line(s, "mov.u32 %r41, %ctaid.x;"); // this block's chunk
        Line(s, "mov.u32 %r42, %nctaid.x;"); // its step

        // The thread's piece of each tile row: input row tid / 8 (then every RowsPerRound-th), bytes 16 · (tid % 8).
        Line(s, "shr.u32 %r46, %r6, 3;");
        Line(s, "and.b32 %r19, %r6, 7;");
        Line(s, "shl.b32 %r19, %r19, 4;");
        Line(s, "mul.wide.u32 %rd22, %r46, %r1;");
        Line(s, "cvt.u64.u32 %rd23, %r19;");
        Line(s, "add.s64 %rd22, %rd22, %rd23;");
        Line(s, "add.s64 %rd22, %rd1, %rd22;"); // x + row · pixels + its bytes
        Line(s, $"shl.b32 %r47, %r46, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r47, %r47, %r19;"); // its offset in a tile
        Line(s, $"mul.wide.u32 %rd21, %r1, {RowsPerRound};"); // global step per round

        // The first chunk's copy, then the records while it runs.
        Line(s, "setp.ge.u32 %p1, %r41, %r40;");
        Line(s, "@%p1 bra DONE;");
        Copy(s, "%r41", "%r43", "FIRST");
        Line(s, "cp.async.commit_group;");
        Line(s, "mov.u32 %r23, 0;");
        Line(s, "mov.u32 %r24, %r4;");
        PairKernelPtx.StageRecords(s, Name);
        s.AppendLine($"STAGED_{Name}:");
        Line(s, "shr.u32 %r26, %r6, 3;"); // the thread's first output
        Line(s, "shl.b32 %r27, %r31, 4;"); // record bytes per output
        Line(s, "mul.lo.u32 %r39, %r26, %r27;");
        Line(s, "add.u32 %r39, %r39, %r30;"); // its records
        Line(s, $"mul.lo.u32 %r29, %r27, {PairKernelPtx.OutputsPerPass};");
        Line(s, "mov.u32 %bias, 32767;");

        s.AppendLine("CHUNK:");
        Line(s, "setp.ge.u32 %p1, %r41, %r40;");
        Line(s, "@%p1 bra DONE;");
        Line(s, "add.u32 %r45, %r41, %r42;"); // the block's next chunk: its copy into the other tile, if there is one
        Line(s, "setp.lt.u32 %p2, %r45, %r40;");
        Line(s, "@!%p2 bra ISSUED;");
        Copy(s, "%r45", "%r44", "NEXT");
        s.AppendLine("ISSUED:");
        Line(s, "cp.async.commit_group;"); // one group per chunk, empty or not
        Line(s, "cp.async.wait_group 1;"); // this thread's copies of the current chunk are in
        Line(s, "bar.sync 0;"); // ... and every thread's (and, the first time, the records)
        Line(s, $"shl.b32 %r8, %r41, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r20, %r8, %r19;"); // pixel byte within the image
        Line(s, "setp.ge.u32 %p6, %r20, %r1;");
        Line(s, "@%p6 bra MIXED;"); // past the image's end (its last chunk): to the barrier
        Line(s, "add.u32 %r21, %r43, %r19;"); // this thread's column of the tile
        Line(s, "cvt.u64.u32 %rd9, %r20;");
        Line(s, "add.s64 %rd9, %rd3, %rd9;");
        Line(s, "mov.u32 %r32, %r26;");
        Line(s, "mov.u32 %r28, %r39;");
        PairKernelPtx.Outputs(s, Name, "MIXED", wideBase: "%r21");
        s.AppendLine("MIXED:");
        Line(s, "bar.sync 0;"); // every thread is done with this tile before the next copy into it
        Line(s, "mov.u32 %r41, %r45;");
        Line(s, "mov.u32 %r48, %r43;"); // the tiles swap: the one just mixed takes the next copy
        Line(s, "mov.u32 %r43, %r44;");
        Line(s, "mov.u32 %r44, %r48;");
        Line(s, "bra CHUNK;");
        s.AppendLine("DONE:");
        Line(s, "ret;");
        s.AppendLine("}");
        return s.ToString();
    }

    /// <summary>
    /// Starts the copy of chunk <paramref name="chunk"/>'s row pieces of this thread into the tile at
    /// <paramref name="tile"/> (none past the image's end). Uses %r49–%r51, %p10, %p11, %rd20.
    /// </summary>
    private static void Copy(StringBuilder s, string chunk, string tile, string label)
    {
        Line(s, $"shl.b32 %r49, {chunk}, {PairKernelPtx.Log2(ChunkBytes)};");
        Line(s, "add.u32 %r50, %r49, %r19;");
        Line(s, "setp.ge.u32 %p10, %r50, %r1;");
        Line(s, $"@%p10 bra {label}_COPIED;");
        Line(s, "cvt.u64.u32 %rd20, %r49;");
        Line(s, "add.s64 %rd20, %rd22, %rd20;");
        Line(s, $"add.u32 %r50, {tile}, %r47;");
        Line(s, "mov.u32 %r51, %r46;");
        s.AppendLine(CultureInfo.InvariantCulture, $"{label}_COPY:");
        Line(s, "setp.ge.u32 %p11, %r51, %r3;");
        Line(s, $"@%p11 bra {label}_COPIED;");
        Line(s, "cp.async.cg.shared.global [%r50], [%rd20], 16;");
        Line(s, "add.s64 %rd20, %rd20, %rd21;");
        Line(s, $"add.u32 %r50, %r50, {RowsPerRound * ChunkBytes};");
        Line(s, $"add.u32 %r51, %r51, {RowsPerRound};");
        Line(s, $"bra {label}_COPY;");
        s.AppendLine(CultureInfo.InvariantCulture, $"{label}_COPIED:");
    }

}
