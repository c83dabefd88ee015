namespace ZetaPrep.Sources;

/// <summary>Where a labelled source's image files live: a zip read in place, or a folder.</summary>
internal interface IImageContainer : IDisposable
{
    /// <summary>The zip file or folder, for messages and provenance.</summary>
    string Path { get; }

    /// <summary>Every file (not folder) with its location inside the container ('/'-separated) and uncompressed size.</summary>
    IEnumerable<(string Location, long Size)> List();

    Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken);

    /// <summary>Reads an entry into a pooled buffer on the calling thread; same bytes and errors as <see cref="ReadAsync"/>. <paramref name="expectedLength"/>: the listed size, a hint for the first buffer (0: unknown).</summary>
    PooledBytes ReadPooled(string location, long expectedLength, CancellationToken cancellationToken);
}
