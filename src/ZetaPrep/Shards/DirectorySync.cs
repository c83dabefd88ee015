using System.Runtime.InteropServices;

namespace ZetaPrep.Shards;

/// <summary>fsync of a directory, so that a rename inside it survives a power loss (Linux; elsewhere a no-op).</summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY; O_DIRECTORY differs between x64 and arm64, and is not needed

    /// <summary>Best effort: .NET cannot open a directory as a stream, so this goes to libc; failures are ignored (some filesystems refuse fsync on directories).</summary>
    public static void TryFlush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            return;
        }

        _ = Fsync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
