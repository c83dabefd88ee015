using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>
/// Tests that count what the process allocates, run alone: allocations of tests running beside them would count as
/// theirs. They count the nursery's own collections, not the process's (the GC collects on its own where its budget is
/// small, such as a machine that reports no L3 cache).
/// </summary>
[CollectionDefinition(nameof(CountsAllocations), DisableParallelization = true)]
public sealed class CountsAllocations;

[Collection(nameof(CountsAllocations))]
public sealed class NurseryTests
{
    [Fact]
    public void CollectsTheFirstGeneration_OnlyOnceItsBytesWereAllocatedSinceTheLastTime()
    {
        var nursery = new Nursery();
        AllocateGarbage(Nursery.Bytes);
        var gen0 = GC.CollectionCount(0);
        nursery.CollectIfFull();
        Assert.Equal(1, nursery.Collections);
        Assert.True(GC.CollectionCount(0) > gen0, "the collection it asked for happened");

        nursery.CollectIfFull();
        AllocateGarbage(Nursery.Bytes / 2);
        nursery.CollectIfFull();
        Assert.Equal(1, nursery.Collections);

        AllocateGarbage(Nursery.Bytes / 2);
        nursery.CollectIfFull();
        Assert.Equal(2, nursery.Collections);
    }

    [Fact]
    public void ThreadsThatFindItFullTogether_CollectOnce()
    {
        var nursery = new Nursery();
        AllocateGarbage(Nursery.Bytes);
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            nursery.CollectIfFull();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(1, nursery.Collections);
    }

    /// <summary>The last array <see cref="AllocateGarbage"/> made: each one escapes, so none is allocated on the stack.</summary>
    private static byte[]? s_last;

    /// <summary>
    /// Allocates <paramref name="bytes"/> and 64 KiB more in 1 KiB arrays that are garbage once the next one is made (the
    /// cheap allocation count the nursery reads leaves out what each thread's allocation context has left, a few KiB).
    /// </summary>
    private static void AllocateGarbage(long bytes)
    {
        for (long done = 0; done < bytes + (64 << 10); done += 1024)
        {
            s_last = new byte[1024 - 24];
        }
    }
}
