using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

public sealed class ImageFolderSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-src-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Touch(string relative, int bytes = 3)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
    }

    [Fact]
    public async Task Lists_ClassesInOrdinalOrder_ItemsSortedById_SkippingNonImagesAndHiddenFiles()
    {
        Touch("b/2.png");
        Touch("b/10.JPG", 7);
        Touch("B/x.jpeg");
        Touch("a/deep/er/z.webp");
        Touch("a/readme.txt");
        Touch("a/.hidden.png");
        Touch(".git/obj.png");
        Touch("empty-class/notes.md");
        var listing = await new ImageFolderSource(_root).ListAsync(CancellationToken.None);
        Assert.Equal(["B", "a", "b"], listing.ClassNames);
        Assert.Equal(["B/x.jpeg", "a/deep/er/z.webp", "b/10.JPG", "b/2.png"], listing.Items.Select(i => i.Id));
        Assert.Equal([0, 1, 2, 2], listing.Items.Select(i => i.ClassIndex));
        Assert.Equal(7, listing.Items[2].Size);
        var label = new double[3];
        listing.WriteLabel(1, label);
        Assert.Equal([0.0, 1.0, 0.0], label);
    }

    [Fact]
    public async Task SymbolicLinks_ToFilesAndOutsideFolders_AreFollowed_HiddenFoldersAreNot()
    {
        Touch("cat/a.png");
        Touch("dog/c.png");
        Touch("dog/.thumbs/c.png");
        var outside = Directory.CreateTempSubdirectory("zetaprep-outside-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(outside, "x.png"), new byte[5]);
            Directory.CreateSymbolicLink(Path.Combine(_root, "dog", "more"), outside);
            File.CreateSymbolicLink(Path.Combine(_root, "cat", "b.png"), Path.Combine(_root, "dog", "c.png"));
            var listing = await new ImageFolderSource(_root).ListAsync(CancellationToken.None);
            Assert.Equal(["cat/a.png", "cat/b.png", "dog/c.png", "dog/more/x.png"], listing.Items.Select(i => i.Id));
            Assert.Equal(5, listing.Items[3].Size);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Theory]
    [InlineData("..")] // back to the root: every class listed again below cat/up
    [InlineData(".")] // to itself
    [InlineData("../..")] // above the root
    public async Task SymbolicLinkLoop_IsRefused_NamingTheLink(string target)
    {
        Touch("cat/a.png");
        Touch("dog/c.png");
        Directory.CreateSymbolicLink(Path.Combine(_root, "cat", "up"), target);
        var e = await Assert.ThrowsAsync<ZetaPrepException>(() => new ImageFolderSource(_root).ListAsync(CancellationToken.None));
        Assert.StartsWith(Path.Combine(_root, "cat", "up") + ": a symbolic link to ", e.Message, StringComparison.Ordinal);
        Assert.Contains("remove the link", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameThatIsNotUtf8_IsListed_AndReadingItNamesTheWayOut()
    {
        Touch("cat/a.png");
        Touch("dog/c.png");
        byte[] latin1 = [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'.', (byte)'p', (byte)'n', (byte)'g'];
        NonUtf8Files.Create(Path.Combine(_root, "dog"), latin1, [1, 2, 3]);
        try
        {
            var source = new ImageFolderSource(_root);
            var listing = await source.ListAsync(CancellationToken.None);
            var odd = Assert.Single(listing.Items, i => i.Id.Contains('\uFFFD', StringComparison.Ordinal));
            var e = await Assert.ThrowsAsync<ZetaPrepException>(async () => (await source.ReadPooledAsync(odd, CancellationToken.None)).Dispose());
            Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
            Assert.Contains("convmv", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            NonUtf8Files.Delete(Path.Combine(_root, "dog"), latin1);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFolderNameThatIsNotUtf8_IsRefusedNamingIt_NotPassedOverInSilence(bool classFolder)
    {
        // .NET gives such a folder a name with U+FFFD, which opens nothing: as a class folder the listing threw an
        // unhandled DirectoryNotFoundException (the process aborted); below one, the enumerator passed over it as if it
        // had been deleted meanwhile, and its images were left out without a word (QA).
        Touch("cat/a.png");
        Touch("dog/c.png");
        var parent = classFolder ? _root : Path.Combine(_root, "dog");
        byte[] latin1 = [(byte)'s', (byte)'k', 0xE9];
        NonUtf8Files.CreateDirectory(parent, latin1);
        try
        {
            var e = await Assert.ThrowsAsync<ZetaPrepException>(() => new ImageFolderSource(_root).ListAsync(CancellationToken.None));
            Assert.StartsWith(Path.Combine(parent, "sk\uFFFD") + ": cannot list it: its name is not valid UTF-8", e.Message, StringComparison.Ordinal);
            Assert.Contains("convmv", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            NonUtf8Files.DeleteDirectory(parent, latin1);
        }
    }

    [Fact]
    public async Task ManyClassFolders_ListTheSame_OnOneThreadOrMany()
    {
        // 40 classes listed at once: empty ones (no class index), nested files, an excluded pattern, a same-named class
        // folder under two parents (--class-depth 2) merged into one class.
        for (var c = 0; c < 40; c++)
        {
            for (var f = 0; f < c % 7; f++)
            {
                Touch($"p{c % 2}/c{c:D2}/{(f % 3 == 0 ? "sub/" : "")}{f}.png", 1 + c + f);
                Touch($"p{c % 2}/c{c:D2}/{f}_mask.png");
            }
        }
        Touch("p1/c00/extra.jpg", 11);
        async Task<SourceListing> List(int threads) =>
            await new ImageFolderSource(_root, new ImageFolderOptions(2, ["*mask*"]) { Threads = threads }).ListAsync(CancellationToken.None);
        var one = await List(1);
        Assert.Equal(Enumerable.Range(0, 40).Where(c => c % 7 != 0 || c == 0).Select(c => $"c{c:D2}"), one.ClassNames);
        Assert.Equal(["p1/c00/extra.jpg"], one.Items.Where(i => i.ClassIndex == 0).Select(i => i.Id));
        Assert.Contains(one.Items, i => i is { Id: "p1/c01/sub/0.png", ClassIndex: 1, Size: 2 });
        Assert.DoesNotContain(one.Items, i => i.Id.Contains("mask", StringComparison.Ordinal));
        Assert.Equal(one.Items.Select(i => i.Id).Order(StringComparer.Ordinal), one.Items.Select(i => i.Id));
        foreach (var threads in new[] { 0, 3, 64 })
        {
            var many = await List(threads);
            Assert.Equal(one.ClassNames, many.ClassNames);
            Assert.Equal(one.Items.Select(i => (i.Id, i.ClassIndex, i.Size)), many.Items.Select(i => (i.Id, i.ClassIndex, i.Size)));
        }
    }

    [Fact]
    public async Task Reads_TheFileBytes()
    {
        Touch("a/1.png", 5);
        Touch("b/1.png", 9);
        var source = new ImageFolderSource(_root);
        var listing = await source.ListAsync(CancellationToken.None);
        Assert.Equal(9, (await source.ReadAsync(listing.Items[1], CancellationToken.None)).Length);
    }

    [Fact]
    public async Task ReadsPooled_TheSameBytesAsReadAsync_EmptyAndLargeFilesIncluded()
    {
        var random = new Random(7);
        foreach (var (name, size) in new[] { ("a/empty.jpg", 0), ("a/photo.jpg", 137_000), ("b/big.png", 3 * 1024 * 1024 + 1) })
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_root, name))!);
            File.WriteAllBytes(Path.Combine(_root, name), bytes);
        }
        IImageSource source = new ImageFolderSource(_root);
        var listing = await source.ListAsync(CancellationToken.None);
        foreach (var item in listing.Items)
        {
            var expected = await source.ReadAsync(item, CancellationToken.None);
            using var pooled = await source.ReadPooledAsync(item, CancellationToken.None);
            Assert.Equal(item.Size, pooled.Length);
            Assert.True(pooled.Span.SequenceEqual(expected), item.Id);
        }
    }

    [Fact]
    public async Task ReadPooled_OfAFileGoneOrUnreadable_FailsWithReadAsyncsOneLineMessage()
    {
        Touch("a/1.png");
        Touch("b/1.png");
        Touch("b/2.png");
        IImageSource source = new ImageFolderSource(_root);
        var listing = await source.ListAsync(CancellationToken.None);
        File.Delete(Path.Combine(_root, "a/1.png"));
        File.Delete(Path.Combine(_root, "b/2.png"));
        Directory.CreateDirectory(Path.Combine(_root, "b/2.png")); // a folder where the file was: cannot be read as one
        foreach (var item in new[] { listing.Items[0], listing.Items[2] })
        {
            var expected = await Assert.ThrowsAsync<ZetaPrepException>(() => source.ReadAsync(item, CancellationToken.None));
            var actual = await Assert.ThrowsAsync<ZetaPrepException>(async () => await source.ReadPooledAsync(item, CancellationToken.None));
            Assert.Equal(expected.Message, actual.Message);
            Assert.StartsWith(Path.Combine(_root, item.Id) + ": cannot read (", actual.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', actual.Message);
        }
    }

    [Fact]
    public async Task MissingEmptyOrSingleClassFolders_AreUsageErrors()
    {
        var missing = await Assert.ThrowsAsync<ZetaPrepException>(() => new ImageFolderSource(Path.Combine(_root, "nope")).ListAsync(CancellationToken.None));
        Assert.Equal(2, missing.ExitCode);
        var empty = await Assert.ThrowsAsync<ZetaPrepException>(() => new ImageFolderSource(_root).ListAsync(CancellationToken.None));
        Assert.Contains("no images", empty.Message, StringComparison.Ordinal);
        Touch("only/1.png");
        var single = await Assert.ThrowsAsync<ZetaPrepException>(() => new ImageFolderSource(_root).ListAsync(CancellationToken.None));
        Assert.Contains("only one class", single.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderThatCannotBeListed_FailsInOneLineNamingIt()
    {
        // Root reads any folder, so the refusal is simulated: what a listing of a folder without permission throws.
        static IEnumerable<int> Denied()
        {
            yield return 1;
            throw new UnauthorizedAccessException("Access to the path '/data/in/b/locked' is denied.");
        }
        var e = Assert.Throws<ZetaPrepException>(() => DirectoryWalk.Guarded("/data/in", Denied).ToList());
        Assert.Equal("/data/in: cannot list it or a folder below it (Access to the path '/data/in/b/locked' is denied); make it readable (e.g. chmod -R u+rX) or move it out of the input.", e.Message);
        Assert.Equal([1], DirectoryWalk.Guarded("/data/in", Denied).Take(1));
        // .NET opens the folder as the listing is created (a class folder or --in without permission): that fails the
        // same way, where it had aborted the process with an unhandled exception (QA).
        static IEnumerable<int> Unopenable() => throw new UnauthorizedAccessException("Access to the path '/data/in/b' is denied.");
        var first = Assert.Throws<ZetaPrepException>(() => DirectoryWalk.Guarded("/data/in/b", Unopenable).ToList());
        Assert.StartsWith("/data/in/b: cannot list it or a folder below it (Access to the path '/data/in/b' is denied)", first.Message, StringComparison.Ordinal);
    }
}
