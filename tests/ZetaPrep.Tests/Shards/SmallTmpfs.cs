using System.Diagnostics;

namespace ZetaPrep.Tests.Shards;

/// <summary>A tmpfs of a few KiB mounted for a test, to make a real full disk (ENOSPC); needs root, else <see cref="TryMount"/> returns null.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's syntax, e.g. 64k) on a new folder inside <paramref name="parent"/>.</summary>
    public static SmallTmpfs? TryMount(string parent, string size)
    {
        var path = System.IO.Path.Combine(parent, "small");
        Directory.CreateDirectory(path);
        return Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path) ? new SmallTmpfs(path) : null;
    }

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
