using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Pipeline;

/// <summary>
/// An exclusive advisory lock (flock) on a hidden, empty file at the root of a generate run's --out, held from the
/// run's first write to its last: a second run on the same output (a job submitted twice, a requeued Slurm task, a
/// --resume or --overwrite started beside a live run) is refused with one line before it writes or deletes anything.
/// Without it two such runs each wrote shards over the other's and both exited 0, leaving shards that disagreed with
/// the manifest. Workers of one split share an output, so each worker locks a file of its own (--worker I/W:
/// <c>.zetaprep.worker-I-of-W.lock</c>). The file stays after the run: deleting it while a second run has it open
/// would let a third lock a new file beside the second. The kernel drops the lock when the process ends, however it ends.
/// </summary>
public sealed partial class OutputLock : IDisposable
{
    /// <summary>The lock file of a single (not --worker) run.</summary>
    public const string FileName = ".zetaprep.lock";

    private const int LockExclusive = 2; // LOCK_EX
    private const int LockNonBlocking = 4; // LOCK_NB
    private const int WouldBlock = 11; // EWOULDBLOCK/EAGAIN on Linux

    private readonly SafeFileHandle _handle;

    private OutputLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>The lock file's name for a run with <paramref name="worker"/> (null: a single run).</summary>
    public static string FileNameFor(WorkerSpec? worker) => worker is null
        ? FileName
        : string.Create(CultureInfo.InvariantCulture, $".zetaprep.worker-{worker.Index}-of-{worker.Count}.lock");

    /// <summary>Whether <paramref name="name"/> (a file name at an output's root) is one of the lock files.</summary>
    public static bool IsLockFile(string name) =>
        name == FileName || (name.StartsWith(".zetaprep.worker-", StringComparison.Ordinal) && name.EndsWith(".lock", StringComparison.Ordinal));

    /// <summary>
    /// Creates <paramref name="outDir"/> if needed and takes its lock for <paramref name="worker"/>, or fails with one
    /// line when another process holds it.
    /// </summary>
    public static OutputLock Acquire(string outDir, WorkerSpec? worker)
    {
        var path = Path.Combine(outDir, FileNameFor(worker));
        var who = worker is null ? "another zetaprep run" : $"another zetaprep run of worker {worker}";
        ZetaPrepException Held() =>
            new($"--out {outDir}: {who} is writing there (it holds {Path.GetFileName(path)}); wait for it to end, or choose another --out.");
        SafeFileHandle handle;
        try
        {
            Directory.CreateDirectory(outDir);
            // FileShare.None: .NET itself takes flock(LOCK_EX | LOCK_NB) on Unix (unless DOTNET_SYSTEM_IO_DISABLEFILELOCKING
            // is set, hence the explicit flock below) and reports a held lock as EWOULDBLOCK.
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            throw Held();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {outDir}: cannot write ({e.Message.TrimEnd('.')}); choose a writable directory.", e);
        }
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            if (Flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) != 0)
            {
                // Filesystems without flock support (some network mounts) cannot guard the output; the run goes on.
                if (Marshal.GetLastPInvokeError() == WouldBlock)
                {
                    handle.Dispose();
                    throw Held();
                }
            }
        }
        return new OutputLock(handle);
    }

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Flock(int fd, int operation);
}
