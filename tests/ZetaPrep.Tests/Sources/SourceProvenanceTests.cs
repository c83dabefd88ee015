using System.Security.Cryptography;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>The input files a run hashes for its manifest, beside the run rather than in the listing.</summary>
public sealed class SourceProvenanceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-provenance-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task HashFiles_GivesEachFilesNameSizeAndSha256_InListedOrder()
    {
        var big = new byte[3 * 1024 * 1024 + 17]; // several of the hash stream's 1 MiB reads
        new Random(7).NextBytes(big);
        var paths = new[] { Write("archive.zip", big), Write("labels.csv", "image_id,melanoma\nISIC_0000000,1.0\n"u8.ToArray()), Write("empty.csv", []) };

        var files = await new SourceProvenance("isic2017", "train", paths).HashFilesAsync(CancellationToken.None);

        Assert.Equal(["archive.zip", "labels.csv", "empty.csv"], files.Select(f => f.Name));
        for (var i = 0; i < paths.Length; i++)
        {
            var bytes = File.ReadAllBytes(paths[i]);
            Assert.Equal(bytes.Length, files[i].Bytes);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), files[i].Sha256);
        }
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", files[2].Sha256);
    }

    [Fact]
    public async Task HashFiles_AFileGoneSinceTheListing_IsAOneLineErrorNamingIt()
    {
        var gone = Path.Combine(_root, "ISIC-2017_Training_Data.zip");
        var provenance = new SourceProvenance("isic2017", "train", [Write("labels.csv", [1, 2, 3]), gone]);

        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => provenance.HashFilesAsync(CancellationToken.None));

        Assert.StartsWith(gone + ": cannot be read", e.Message);
        Assert.Contains("--resume", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task HashFiles_Cancelled_Stops()
    {
        var provenance = new SourceProvenance(null, null, [Write("a.zip", new byte[1024])]);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provenance.HashFilesAsync(cancelled.Token));
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
