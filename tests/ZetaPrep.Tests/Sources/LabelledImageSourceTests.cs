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

    private async Task<SourceListing> List(params string[] exclude)
    {
        var source = SourceResolver.Resolve(new SourceOptions { Input = Images, Labels = LabelFile, IdColumn = "image", LabelColumn = "label", Exclude = exclude });
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
    public async Task WithExclude_ARowWhoseImageIsMissing_IsStillAnError()
    {
        Write("image,label\np0,a\np1,b\np2_mask,b\np3_mask,a\n", "p0.jpg", "p1.jpg", "p2_mask.jpg");
        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => List("*mask*"));
        Assert.Contains("labels.csv line 5: image p3_mask has a label row but no image in imgs", e.Message, StringComparison.Ordinal);
    }
}
