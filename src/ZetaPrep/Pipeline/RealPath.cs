using System.Runtime.InteropServices;

namespace ZetaPrep.Pipeline;

/// <summary>
/// A path with every symbolic link and "." / ".." resolved (libc realpath), for telling whether one directory lies
/// inside another however either was named. A path that does not exist yet resolves its longest existing ancestor and
/// keeps the rest as written.
/// </summary>
internal static partial class RealPath
{
    public static string Of(string path)
    {
        var full = Path.GetFullPath(path);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return full;
        }
        var rest = new Stack<string>();
        var existing = full;
        while (true)
        {
            if (Resolve(existing) is { } resolved)
            {
                return rest.Aggregate(resolved, Path.Combine);
            }
            var parent = Path.GetDirectoryName(existing);
            if (parent is null)
            {
                return full;
            }
            rest.Push(Path.GetFileName(existing));
            existing = parent;
        }
    }

    /// <summary>Whether <paramref name="path"/>, resolved, is <paramref name="directory"/> (resolved) or lies below it.</summary>
    public static bool IsWithin(string path, string directory)
    {
        var p = Path.TrimEndingDirectorySeparator(Of(path));
        var d = Path.TrimEndingDirectorySeparator(Of(directory));
        return p == d || p.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string? Resolve(string path)
    {
        nint result;
        try
        {
            result = Native(path, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        if (result == 0)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            Free(result);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint Native(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial void Free(nint pointer);
}
