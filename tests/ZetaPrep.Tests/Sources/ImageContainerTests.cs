using System.IO.Compression;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>Both containers of the labelled source: the pooled read gives ReadAsync's bytes and errors.</summary>
public sealed class ImageContainerTests : IDisposable
{
    private static readonly (string Location, int Size)[] Entries = [("images/empty.jpg", 0), ("images/small.jpg", 5), ("big/photo.png", 3 * 1024 * 1024 + 3)];

    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-containers-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<bool> Kinds => new() { true, false };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ReadPooled_GivesReadAsyncsBytes(bool zip)
    {
        using var container = Create(zip);
        foreach (var (location, size) in Entries)
        {
            var expected = await container.ReadAsync(location, CancellationToken.None);
            // The listed size is only a hint for the first buffer: stale (smaller, larger) or unknown (0), the bytes are whole.
            foreach (var hint in new[] { size, 0, 1, size + 4096 })
            {
                using var pooled = container.ReadPooled(location, hint, CancellationToken.None);
                Assert.Equal(size, pooled.Length);
                Assert.True(pooled.Span.SequenceEqual(expected), $"{location} hint {hint}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ReadPooled_OfAMissingEntry_FailsWithReadAsyncsMessage(bool zip)
    {
        using var container = Create(zip);
        var expected = await Assert.ThrowsAsync<ZetaPrepException>(() => container.ReadAsync("images/none.jpg", CancellationToken.None));
        var actual = Assert.Throws<ZetaPrepException>(() => container.ReadPooled("images/none.jpg", 1000, CancellationToken.None));
        Assert.Equal(expected.Message, actual.Message);
        Assert.Contains(container.Path, actual.Message, StringComparison.Ordinal);
    }

    private IImageContainer Create(bool zip)
    {
        var random = new Random(3);
        var folder = Path.Combine(_root, "folder");
        foreach (var (location, size) in Entries)
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            var path = Path.Combine(folder, location);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        if (!zip)
        {
            return new FolderImageContainer(folder);
        }
        var zipPath = Path.Combine(_root, "images.zip");
        ZipFile.CreateFromDirectory(folder, zipPath);
        return new ZipImageArchive(zipPath);
    }
}
