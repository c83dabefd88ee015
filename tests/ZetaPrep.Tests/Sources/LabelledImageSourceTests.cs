using System.IO.Compression;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>A folder of images labelled by a CSV (`--labels`): which images and rows make the listing.</summary>
public sealed class LabelledImageSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-labelled-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Images => Path.Combine(_root, "imgs");

    private string LabelFile => Path.Combine(_root, "labels.csv");

    private void Write(string csv, params string[] images)
    {
        Directory.CreateDirectory(Images);
        foreach (var name in images)
        {
            File.WriteAllBytes(Path.Combine(Images, name), new byte[3]);
        }
        File.WriteAllText(LabelFile, csv);
    }

    private string Zip(params string[] entries)
    {
        var path = Path.Combine(_root, "imgs.zip");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var name in entries)
        {
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(new byte[3]);
        }
        return path;
    }

    private Task<SourceListing> List(params string[] exclude) => ListIn(Images, exclude);

    private async Task<SourceListing> ListIn(string input, params string[] exclude)
    {
        var source = SourceResolver.Resolve(new SourceOptions { Input = input, Labels = LabelFile, IdColumn = "image", LabelColumn = "label", Exclude = exclude });
        using var disposable = (IDisposable)source;
        return await source.ListAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AnExcludedImage_TakesItsLabelRowWithIt()
    {
        Write("image,label\np0,a\np1,b\np2,a\np2_mask,b\n", "p0.jpg", "p1.jpg", "p2.jpg", "p2_mask.jpg");
        var listing = await List("*mask*");
        Assert.Equal(["p0", "p1", "p2"], listing.Items.Select(i => i.Id));
        Assert.Equal([0, 1, 0], listing.Items.Select(i => i.ClassIndex));
    }

    [Fact]
    public async Task AZipGivenAsTheLabelFile_IsNamedAsOne_WithTheWayOn()
    {
        Write("image,label\np0,a\np1,b\n", "p0.jpg", "p1.jpg");
        var zipped = Path.Combine(_root, "labels.zip");
        using (var zip = ZipFile.Open(zipped, ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(LabelFile, "labels.csv");
        }
        var source = SourceResolver.Resolve(new SourceOptions { Input = Images, Labels = zipped, IdColumn = "image", LabelColumn = "label" });
        using var disposable = (IDisposable)source;
        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => source.ListAsync(CancellationToken.None));
        Assert.Equal(2, e.ExitCode);
        Assert.Equal($"--labels {zipped}: a zip, not a CSV; unzip it and give the CSV inside to --labels.", e.Message);
    }

    [Fact]
    public async Task ALabelFileWithOneClass_IsRefused_AsAnImageFolderWithOneClassIs()
    {
        // Accepted before: every label [1], "mixing" nothing (QA).
        Write("image,label\np0,cat\np1,cat\np2,cat\n", "p0.jpg", "p1.jpg", "p2.jpg");
        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => List());
        Assert.Equal(2, e.ExitCode);
        Assert.Equal($"{LabelFile}: only one class ('cat'); mixing needs labels of at least two classes: check --label-column (or the label columns) names the class.", e.Message);
    }

    [Fact]
    public async Task WithExclude_ARowWhoseImageIsMissing_IsStillAnError()
    {
        Write("image,label\np0,a\np1,b\np2_mask,b\np3_mask,a\n", "p0.jpg", "p1.jpg", "p2_mask.jpg");
        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => List("*mask*"));
        Assert.Contains("labels.csv line 5: image p3_mask has a label row but no image in imgs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AColonInAFileName_IsAnOrdinaryId()
    {
        // Legal in Linux and macOS file names (e.g. a time of day), and ImageFolder mode takes it; only '..', absolute paths
        // and NUL are refused.
        Write("image,label\n12:30 scan,a\np1.jpg,b\n", "12:30 scan.jpg", "p1.jpg");
        var listing = await List();
        Assert.Equal(["12:30 scan", "p1"], listing.Items.Select(i => i.Id));
        Assert.Equal([0, 1], listing.Items.Select(i => i.ClassIndex));
    }

    [Fact]
    public async Task InAZip_AColonIsFine_ButAnAbsoluteOrDotDotEntryIsStillRefused()
    {
        Write("image,label\n12:30 scan,a\np1,b\n");
        Assert.Equal(["12:30 scan", "p1"], (await ListIn(Zip("imgs/12:30 scan.jpg", "imgs/p1.jpg"))).Items.Select(i => i.Id));
        foreach (var crafted in new[] { "C:/Users/me/p1.jpg", "/abs/p1.jpg", "imgs/../p1.jpg" })
        {
            File.Delete(Path.Combine(_root, "imgs.zip"));
            var e = await Assert.ThrowsAsync<ZetaPrepException>(() => ListIn(Zip("imgs/12:30 scan.jpg", crafted)));
            Assert.Contains($"imgs.zip: entry name '{crafted}' is absolute or contains '..' or NUL; refusing a crafted archive", e.Message, StringComparison.Ordinal);
        }
    }
}
