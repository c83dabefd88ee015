using System.Diagnostics;

namespace ZetaPrep.TestSupport;

/// <summary>
/// A tmpfs of a few KiB mounted for a test, to make a real full disk (ENOSPC) or a read-only one; needs root, else
/// <see cref="TryMount"/> returns null. Linked into the test projects that use it.
/// </summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="size"/> (mount's syntax, e.g. 64k) on a new folder <paramref name="name"/> inside
    /// <paramref name="parent"/>, read-only (even for root, as a permission bit is not) when <paramref name="readOnly"/>,
    /// with room for at most <paramref name="inodes"/> files and folders (its root included) when given.
    /// </summary>
    public static SmallTmpfs? TryMount(string parent, string size, bool readOnly = false, string name = "small", int? inodes = null)
    {
        var path = System.IO.Path.Combine(parent, name);
        Directory.CreateDirectory(path);
        var options = $"{(readOnly ? "ro," : "")}size={size}{(inodes is { } n ? $",nr_inodes={n}" : "")}";
        return Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path) ? new SmallTmpfs(path) : null;
    }

    /// <summary>Grows (or shrinks) the mounted tmpfs to <paramref name="size"/>, keeping its files.</summary>
    public bool Resize(string size) => Run("mount", "-o", $"remount,size={size}", Path);

    /// <summary>Every file in the mount, hidden ones included.</summary>
    public string[] AllFiles() => Directory.GetFiles(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 });

    public void Dispose() => Run("umount", Path);

    private static bool Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(30_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
