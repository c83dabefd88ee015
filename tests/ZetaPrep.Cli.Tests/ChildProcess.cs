using System.Diagnostics;
using System.Security.Cryptography;
using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>The built `zetaprep` apphost run as a child process (real signals, real process exit), plus output helpers.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly Task<string> _stdout;

    private ChildProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    public static ChildProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the tool with <paramref name="environment"/> added to this process's (e.g. a library path to test a fallback).</summary>
    public static ChildProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "zetaprep");
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }
        return new ChildProcess(Process.Start(psi)!);
    }

    /// <summary>Waits until the run holds <paramref name="path"/> open (one of /proc/PID/fd links to it); false if it ended first.</summary>
    public async Task<bool> WaitUntilOpenAsync(string path, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            if (HasOpen(path))
            {
                return true;
            }
            await Task.Delay(5);
        }
        return false;
    }

    /// <summary>Whether the run holds <paramref name="path"/> open now (one of /proc/PID/fd links to it).</summary>
    public bool HasOpen(string path)
    {
        string[] fds;
        try
        {
            fds = Directory.GetFileSystemEntries($"/proc/{Id}/fd");
        }
        catch (IOException)
        {
            return false; // the process is gone
        }
        foreach (var fd in fds)
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == path)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // That descriptor closed while listed: it is not the one asked about.
            }
        }
        return false;
    }

    /// <summary>Waits until OUT/manifest.json lists at least <paramref name="shards"/> shards while the run is still incomplete; false if the run ended first.</summary>
    public async Task<bool> WaitForShardsAsync(string manifestPath, TimeSpan timeout, int shards)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            try
            {
                if (File.Exists(manifestPath) && GenerationManifest.Read(manifestPath) is { Complete: false } m && m.Shards.Count >= shards)
                {
                    return true;
                }
            }
            catch (ZetaPrepException)
            {
                // Read between rename and open on a slow disk: poll again.
            }
            await Task.Delay(5);
        }
        return false;
    }

    /// <summary>Waits until the run has a shard open under a temp name (the writer opens the next shard after committing
    /// one, a moment after the manifest lists it); false when the run ended or the timeout passed first.</summary>
    public async Task<bool> WaitForTempFileAsync(string outDir, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            if (TempFiles(outDir).Length > 0)
            {
                return true;
            }
            await Task.Delay(5);
        }
        return false;
    }

    public void Kill() => _process.Kill();

    public void Interrupt()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    public async Task<(int ExitCode, string Stdout, string Stderr)> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return (_process.ExitCode, await _stdout, await _stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    /// <summary>Relative path → SHA-256 of every shard file under OUT/data.</summary>
    public static Dictionary<string, string> ShardHashes(string outDir) =>
        Directory.GetFiles(Path.Combine(outDir, "data")).Order(StringComparer.Ordinal).ToDictionary(
            f => Path.GetRelativePath(outDir, f),
            f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>Hidden temporaries (".name.tmp-*") anywhere under OUT.</summary>
    public static string[] TempFiles(string outDir) =>
        Directory.GetFiles(outDir, ".*.tmp-*", SearchOption.AllDirectories);
}
