using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// An exclusive advisory lock (flock) on a hidden, empty file at the root of a generate run's --out, held from the
/// run's first write to its end: a second run on the same output (a job submitted twice, a requeued Slurm task, a
/// --resume or --overwrite started beside a live run) is refused with one line before it writes or deletes anything.
/// Without it two such runs each wrote shards over the other's and both exited 0, leaving shards that disagreed with
/// the manifest. Workers of one split share an output, so each worker locks a file of its own (--worker I/W:
/// <c>.zetaprep.worker-I-of-W.lock</c>). The run deletes its lock file as it ends; the kernel drops the lock however
/// the process ends, so a file left by a killed run locks nothing. A run that locked a file another run deleted
/// meanwhile (it opened the name just before) takes the lock again on the file now at that name.
/// </summary>
public sealed partial class OutputLock : IDisposable
{
    /// <summary>The lock file of a single (not --worker) run.</summary>
    public const string FileName = ".zetaprep.lock";

    private const int LockShared = 1; // LOCK_SH
    private const int LockExclusive = 2; // LOCK_EX
    private const int LockNonBlocking = 4; // LOCK_NB
    private static readonly int WouldBlock = OperatingSystem.IsMacOS() ? 35 : 11; // EWOULDBLOCK (EAGAIN on Linux)

    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private OutputLock(SafeFileHandle handle, string path) => (_handle, _path) = (handle, path);

    /// <summary>The lock file's name for a run with <paramref name="worker"/> (null: a single run).</summary>
    public static string FileNameFor(WorkerSpec? worker) => worker is null
        ? FileName
        : string.Create(CultureInfo.InvariantCulture, $".zetaprep.worker-{worker.Index}-of-{worker.Count}.lock");

    /// <summary>
    /// Whether <paramref name="relativePath"/> (relative to an output's root, '/' separators) is exactly one of the lock
    /// files: part of an output, never an unknown file (verify) nor a reason to call a directory not empty.
    /// </summary>
    public static bool IsLockFile(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return LockName().IsMatch(relativePath);
    }

    [GeneratedRegex(@"\A\.zetaprep(\.worker-[0-9]+-of-[0-9]+)?\.lock\z", RegexOptions.CultureInvariant)]
    private static partial Regex LockName();

    /// <summary>
    /// Creates <paramref name="outDir"/> if needed and takes its lock for <paramref name="worker"/>, or fails with one
    /// line when another process holds it; an output that cannot be written throws the IOException or
    /// UnauthorizedAccessException (the caller says what was and was not written).
    /// </summary>
    public static OutputLock Acquire(string outDir, WorkerSpec? worker)
    {
        var path = Path.Combine(outDir, FileNameFor(worker));
        var who = worker is null ? "another zetaprep run" : $"another zetaprep run of worker {worker}";
        ZetaPrepException Held() =>
            new($"--out {outDir}: {who} is writing there (it holds {Path.GetFileName(path)}); wait for it to end, or choose another --out.");
        for (var attempt = 0; ; attempt++)
        {
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
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                // Filesystems without flock support (some network mounts) cannot guard the output; the run goes on.
                if (Flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) != 0 && Marshal.GetLastPInvokeError() == WouldBlock)
                {
                    handle.Dispose();
                    throw Held();
                }
            }
            // Locked, but maybe a file the run that held it has just deleted: then the lock guards nothing.
            var locked = FileIdentity.NodeOf((int)handle.DangerousGetHandle());
            var named = FileIdentity.Of(path);
            if (locked is null || (named is { } n && (n.Inode, n.Device) == locked.Value) || attempt == 10)
            {
                return new OutputLock(handle, path);
            }
            handle.Dispose();
        }
    }

    /// <summary>
    /// The lock files in <paramref name="outDir"/> that a live run holds now (names, sorted): what <see cref="Acquire"/>
    /// there would be refused for. A file left by a run that ended (killed) holds nothing and is not listed; an unreadable
    /// one is not either (nothing can be told).
    /// </summary>
    public static IReadOnlyList<string> HeldIn(string outDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        List<string> names;
        try
        {
            names = [.. Directory.EnumerateFiles(outDir, ".zetaprep*.lock").Select(Path.GetFileName).OfType<string>().Where(IsLockFile).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return [.. names.Where(name => IsHeld(Path.Combine(outDir, name)))];
    }

    /// <summary>The live runs holding an output's locks, in words for one line: "a zetaprep run is" / "zetaprep runs are" (<paramref name="Who"/>), "it holds" / "they hold", the lock files, "it ends" / "they end".</summary>
    public sealed record Writers(string Who, string Holds, string Locks, string Ends);

    /// <summary>Who holds <paramref name="outDir"/>'s locks now (<see cref="HeldIn"/>), for verify's, merge's and inspect's line; null when no live run does.</summary>
    public static Writers? WritersIn(string outDir)
    {
        var held = HeldIn(outDir);
        return held.Count switch
        {
            0 => null,
            1 => new Writers("a zetaprep run is", "it holds", held[0], "it ends"),
            _ => new Writers("zetaprep runs are", "they hold", string.Join(", ", held), "they end"),
        };
    }

    /// <summary>
    /// Whether a live process holds the flock on <paramref name="path"/>. flock has no test that takes nothing, so this takes
    /// a shared lock and lets it go at once (what .NET itself takes on every file it opens to read): it fails only against
    /// a run's exclusive lock, and a run starting in that instant is refused as beside any live reader. It opens the file
    /// without creating it, so a missing one is simply not held.
    /// </summary>
    private static bool IsHeld(string path)
    {
        SafeFileHandle handle;
        try
        {
            // FileShare other than None: .NET takes flock(LOCK_SH | LOCK_NB) and reports a held exclusive lock as EWOULDBLOCK.
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone since it was listed (its run ended), or not ours to read
        }
        using (handle)
        {
            // Explicitly as well, for when DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns .NET's own lock off (as in Acquire).
            return (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                && Flock((int)handle.DangerousGetHandle(), LockShared | LockNonBlocking) != 0
                && Marshal.GetLastPInvokeError() == WouldBlock;
        }
    }

    /// <summary>Deletes the lock file, then lets the lock go (in that order: no run can lock the name and see it vanish).</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind it locks nothing, and no reader counts it as an output file.
        }
        _handle.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Flock(int fd, int operation);
}
