using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Shards;

/// <summary>
/// Starts the kernel writing a file's dirty pages to disk without waiting (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE), so that the fsync which completes a shard waits only for the last few megabytes instead of
/// the whole file (a 31 MB shard's fsync took ~20 ms at the end of every run). Not a durability step: the fsync still
/// is. Best effort; elsewhere and on failure a no-op.
/// </summary>
internal static partial class Writeback
{
    private const uint SyncFileRangeWrite = 2;

    /// <summary>Queues write-out of every dirty page of <paramref name="handle"/>'s file that is not already being written.</summary>
    public static void Start(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux() || handle.IsInvalid || handle.IsClosed)
        {
            return;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="handle"/>'s file data so far to stable storage (fdatasync), blocking; meant for a pool
    /// thread while the shard's writer goes on. Returns 0, the errno of a failed call, or -1 where it cannot be made
    /// (not Linux, handle closed, a file that does not support it). A failure must reach the writer: Linux reports a
    /// write-back error to one sync call per open file, so the fsync that completes the shard would not see it again.
    /// </summary>
    public static int SyncData(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Fdatasync((int)handle.DangerousGetHandle()) == 0)
            {
                return 0;
            }
            // EINVAL, EROFS, ENOTSUP: a file that cannot be synced, which FileStream.Flush(true) ignores as well.
            var errno = Marshal.GetLastPInvokeError();
            return errno is 22 or 30 or 95 ? -1 : errno;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
