namespace ZetaPrep.Sources;

/// <summary>A folder of image files (any depth) for the labelled-CSV source.</summary>
internal sealed class FolderImageContainer : IImageContainer
{
    public FolderImageContainer(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    public IEnumerable<(string Location, long Size)> List() =>
        DirectoryWalk.Files(Path, skipHidden: false)
            .Select(f => (System.IO.Path.GetRelativePath(Path, f.FullPath).Replace(System.IO.Path.DirectorySeparatorChar, '/'), f.Size))
            .ToList();

    public async Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(Path, location);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DirectoryWalk.CannotRead(path, e);
        }
    }

    public PooledBytes ReadPooled(string location, long expectedLength, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = System.IO.Path.Combine(Path, location);
        try
        {
            return PooledBytes.ReadFile(path, expectedLength);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DirectoryWalk.CannotRead(path, e);
        }
    }

    public void Dispose()
    {
    }
}
