using System.Runtime.InteropServices;
using System.Text;

namespace ZetaPrep.Tests.Sources;

/// <summary>Files whose names are not valid UTF-8 (Latin-1 names from old Windows zips): .NET strings cannot name them, libc can.</summary>
internal static partial class NonUtf8Files
{
    private const int WriteCreateTruncate = 0x1 | 0x40 | 0x200; // O_WRONLY | O_CREAT | O_TRUNC

    public static void Create(string directory, ReadOnlySpan<byte> name, byte[] contents)
    {
        var fd = Open(PathOf(directory, name), WriteCreateTruncate, 0x1A4);
        Assert.True(fd >= 0, $"open failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            Assert.Equal(contents.Length, (int)Write(fd, contents, contents.Length));
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Removes the file (Directory.Delete cannot: the name .NET gives back for it opens nothing).</summary>
    public static void Delete(string directory, ReadOnlySpan<byte> name) => Assert.Equal(0, Unlink(PathOf(directory, name)));

    /// <summary>Makes a folder of that name.</summary>
    public static void CreateDirectory(string directory, ReadOnlySpan<byte> name) =>
        Assert.True(MakeDirectory(PathOf(directory, name), 0x1ED) == 0, $"mkdir failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>Removes the folder, which must be empty.</summary>
    public static void DeleteDirectory(string directory, ReadOnlySpan<byte> name) => Assert.Equal(0, RemoveDirectory(PathOf(directory, name)));

    private static byte[] PathOf(string directory, ReadOnlySpan<byte> name) => [.. Encoding.UTF8.GetBytes(directory + "/"), .. name, 0];

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static partial int Unlink(byte[] path);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static partial int MakeDirectory(byte[] path, int mode);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true)]
    private static partial int RemoveDirectory(byte[] path);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte[] path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
