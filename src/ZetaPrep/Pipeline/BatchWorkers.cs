namespace ZetaPrep.Pipeline;

/// <summary>
/// The --threads threads that decode, mix and encode the batches in flight, taking work earliest batch first: once a
/// batch's decodes are done, its mix and its encodes go ahead of every decode of the batches after it. The writer takes
/// batches in plan order, so the next one it needs is finished first and the first batch is ready after its own work,
/// not after the work of every batch started with it. With a thread-pool scheduler shared first come, first served,
/// the first of three batches started together waited for the other two's decodes (400 photos, 16 threads: 0.20 s to
/// the first batch instead of ~0.05 s, a third of the run).
/// </summary>
/// <remarks>
/// Work items must not throw (an exception would end the process: these are dedicated threads); a batch's items catch
/// their own. Items posted after <see cref="Dispose"/> run on the caller's thread, so a batch still in flight when a run
/// is abandoned always finishes.
/// </remarks>
internal sealed class BatchWorkers : IDisposable
{
    private readonly PriorityQueue<Action, (long Batch, long Order)> _queue = new();
    private readonly Thread[] _threads;
    private long _order;
    private bool _closed;

    public BatchWorkers(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _threads = new Thread[threads];
        try
        {
            for (var i = 0; i < threads; i++)
            {
                _threads[i] = new Thread(Loop) { IsBackground = true, Name = "zetaprep worker" };
                _threads[i].Start();
            }
        }
        catch
        {
            Dispose(); // the threads already started end; the caller sees why the next one could not start
            throw;
        }
    }

    /// <summary>How many threads take work.</summary>
    public int Count => _threads.Length;

    /// <summary>Queues <paramref name="work"/> behind the items of earlier batches and those of its own posted before it.</summary>
    public void Post(long batch, Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        lock (_queue)
        {
            if (!_closed)
            {
                _queue.Enqueue(work, (batch, _order++));
                Monitor.Pulse(_queue);
                return;
            }
        }
        work();
    }

    private void Loop()
    {
        while (true)
        {
            Action? work;
            lock (_queue)
            {
                while (!_queue.TryDequeue(out work, out _))
                {
                    if (_closed)
                    {
                        return;
                    }
                    Monitor.Wait(_queue);
                }
            }
            work();
        }
    }

    /// <summary>Lets the threads end once the queue is empty (what is queued still runs).</summary>
    public void Dispose()
    {
        lock (_queue)
        {
            _closed = true;
            Monitor.PulseAll(_queue);
        }
    }
}
