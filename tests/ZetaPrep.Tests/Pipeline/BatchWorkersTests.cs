using System.Collections.Concurrent;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>The batches' threads take the earliest batch's work first, each batch's in the order posted.</summary>
public sealed class BatchWorkersTests
{
    [Fact]
    public void Work_RunsEarliestBatchFirst_AndInPostOrderWithinABatch()
    {
        using var workers = new BatchWorkers(1);
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var order = new ConcurrentQueue<string>();
        using var done = new CountdownEvent(6);
        // The one thread is held while later batches' work is queued before earlier ones'.
        workers.Post(0, () =>
        {
            started.Set();
            gate.Wait();
        });
        Assert.True(started.Wait(10_000));
        foreach (var (batch, name) in new[] { (3L, "3a"), (1L, "1a"), (2L, "2a"), (1L, "1b"), (3L, "3b"), (0L, "0a") })
        {
            workers.Post(batch, () =>
            {
                order.Enqueue(name);
                done.Signal();
            });
        }
        gate.Set();
        Assert.True(done.Wait(10_000));
        Assert.Equal(["0a", "1a", "1b", "2a", "3a", "3b"], order.ToArray());
    }

    [Fact]
    public void Work_RunsOnEveryThreadAtOnce()
    {
        using var workers = new BatchWorkers(3);
        Assert.Equal(3, workers.Count);
        using var all = new CountdownEvent(3);
        using var release = new ManualResetEventSlim();
        var threads = new ConcurrentDictionary<int, bool>();
        for (var i = 0; i < 3; i++)
        {
            workers.Post(0, () =>
            {
                threads[Environment.CurrentManagedThreadId] = true;
                all.Signal();
                release.Wait(); // every item blocks: all three can only have started on three threads
            });
        }
        Assert.True(all.Wait(10_000));
        release.Set();
        Assert.Equal(3, threads.Count);
    }

    [Fact]
    public void QueuedWork_StillRunsAfterDispose_AndLaterWorkRunsOnTheCaller()
    {
        var workers = new BatchWorkers(1);
        using var gate = new ManualResetEventSlim();
        using var ran = new ManualResetEventSlim();
        workers.Post(0, () => gate.Wait());
        workers.Post(1, ran.Set);
        workers.Dispose();
        gate.Set();
        Assert.True(ran.Wait(10_000));

        var caller = Environment.CurrentManagedThreadId;
        var ranOn = -1;
        workers.Post(2, () => ranOn = Environment.CurrentManagedThreadId);
        Assert.Equal(caller, ranOn);
    }
}
