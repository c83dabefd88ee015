namespace ZetaPrep.Tests.Shards;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "zetaprep-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Every file in the directory tree, hidden ones included.</summary>
    public string[] AllFiles() => Directory.GetFiles(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 });

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
