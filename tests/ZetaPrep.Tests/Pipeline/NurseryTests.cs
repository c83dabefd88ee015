using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>Tests that count the process's collections, run alone (no other test allocates meanwhile).</summary>
[CollectionDefinition(nameof(CountsCollections), DisableParallelization = true)]
public sealed class CountsCollections;

[Collection(nameof(CountsCollections))]
public sealed class NurseryTests
{
    [Fact]
    public void CollectsTheFirstGeneration_OnlyOnceItsBytesWereAllocatedSinceTheLastTime()
    {
        var nursery = new Nursery();
        AllocateGarbage(Nursery.Bytes);
        var before = GC.CollectionCount(0);
        nursery.CollectIfFull();
        Assert.True(GC.CollectionCount(0) > before, "a collection once Nursery.Bytes were allocated");

        before = GC.CollectionCount(0);
        nursery.CollectIfFull();
        AllocateGarbage(Nursery.Bytes / 2);
        nursery.CollectIfFull();
        Assert.Equal(before, GC.CollectionCount(0));

        AllocateGarbage(Nursery.Bytes / 2);
        before = GC.CollectionCount(0);
        nursery.CollectIfFull();
        Assert.True(GC.CollectionCount(0) > before, "a collection once half and half again were allocated");
    }

    [Fact]
    public void ThreadsThatFindItFullTogether_CollectOnce()
    {
        var nursery = new Nursery();
        nursery.CollectIfFull();
        AllocateGarbage(Nursery.Bytes);
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            nursery.CollectIfFull();
        })).ToList();
        var before = GC.CollectionCount(0);
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(before + 1, GC.CollectionCount(0));
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
