namespace ZetaPrep.Pipeline;

/// <summary>
/// First-generation collections every <see cref="Bytes"/> allocated, asked for where little is alive: after each run of
/// inputs the validation pass checks, before the batches start and after each batch is written. The GC sizes that
/// generation's budget from the CPU's L3 cache (about 16 MiB on the 2-core bench VM, more on larger CPUs) and collects
/// only once it is spent; after a collection it allocates from the start of the generation's 4 MiB region again, so
/// the pages a run keeps there are those of the most it allocated between two collections. Garbage that a short run
/// never collected (the validation pass's, a few KB per input; a few KB per row after) made a longer run touch more:
/// peak RSS grew by ~12 % between 400 and 4000 inputs, and by ~5 % with the budget at 4 MiB (DOTNET_GCgen0size, which
/// only the environment can set). The validation pass of 4000 inputs still allocated 10 MiB between two collections;
/// collecting there too, every 2 MiB, keeps the rest of that region untouched (4000 photos: peak RSS 65-66 → 63-64 MiB,
/// docs/BENCHMARKS.md). The collections cost little: 4000 photos paused 0.04–0.05 s in all.
/// </summary>
internal sealed class Nursery
{
    public const long Bytes = 2 << 20;

    private readonly Lock _lock = new();
    private long _mark;

    /// <summary>How many collections this nursery asked for.</summary>
    public int Collections { get; private set; }

    /// <summary>Collects the first generation if <see cref="Bytes"/> were allocated since the last time; any thread.</summary>
    public void CollectIfFull()
    {
        if (GC.GetTotalAllocatedBytes() - Volatile.Read(ref _mark) < Bytes)
        {
            return;
        }
        lock (_lock)
        {
            // Another thread may have collected meanwhile (the validation pass runs on every thread).
            if (GC.GetTotalAllocatedBytes() - _mark >= Bytes)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                _mark = GC.GetTotalAllocatedBytes();
                Collections++;
            }
        }
    }
}
