using System.Diagnostics;
using ZetaPrep.Manifests;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// A run's input files (downloaded archives, label files) hashed for its manifest in the background, from the listing
/// on, beside the validation pass and the batches: on 16 cores the parallel pass over ISIC 2017 takes under a second,
/// the one-core SHA-256 of its 5.8 GB archive ~4 s. Disposing it cancels a hash still running (a run that failed).
/// </summary>
internal sealed class ProvenanceHash : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly Task<IReadOnlyList<SourceFile>>? _task;
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _finished;

    public ProvenanceHash(SourceProvenance? provenance, CancellationToken cancellationToken)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (provenance is { FilePaths.Count: > 0 })
        {
            _task = provenance.HashFilesAsync(_cancel.Token);
            _ = _task.ContinueWith(_ => Interlocked.CompareExchange(ref _finished, Stopwatch.GetTimestamp(), 0),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>The files with size and SHA-256 once hashed (for manifests written while the run goes on), else null.</summary>
    public IReadOnlyList<InputFile>? FilesIfDone => _task is { IsCompletedSuccessfully: true } ? ToInputFiles(_task.Result) : null;

    /// <summary>Waits for the hash (the complete manifest needs it) and says how long that took in <paramref name="times"/>.</summary>
    public async Task<IReadOnlyList<InputFile>?> WaitAsync(StageTimes times)
    {
        if (_task is null)
        {
            return null;
        }
        var waitStart = Stopwatch.GetTimestamp();
        var files = await _task.ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        var finished = Interlocked.Read(ref _finished) is var f and > 0 ? f : end;
        times.InputFilesHashed = new StageTimes.FilesHashed(files.Count, files.Count(x => x.FromCache), files.Sum(x => x.Bytes),
            Stopwatch.GetElapsedTime(_started, finished).TotalSeconds, Stopwatch.GetElapsedTime(waitStart, end).TotalSeconds);
        return ToInputFiles(files);
    }

    private static List<InputFile> ToInputFiles(IReadOnlyList<SourceFile> files) => files.Select(f => new InputFile(f.Name, f.Bytes, f.Sha256)).ToList();

    public void Dispose()
    {
        if (_task is null)
        {
            _cancel.Dispose();
            return;
        }
        if (!_task.IsCompleted)
        {
            _cancel.Cancel();
        }
        // Observed (a failed run has already reported its own error) and the token source freed once the hash stops.
        _ = _task.ContinueWith(t => { _ = t.Exception; _cancel.Dispose(); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
