namespace ZetaPrep.Cli.Tests;

/// <summary>Bad downloads and bad label files: one line naming the file and the id, nothing written.</summary>
public sealed class IsicErrorTests
{
    private static async Task<string> Fails(string dir, int exitCode = 1, params string[] extra)
    {
        var output = Path.Combine(dir, "out");
        var r = await CliRunner.RunAsync(["generate", "--in", Path.Combine(dir, "isic2017"), "--out", output, "--quiet", .. extra]);
        Assert.Equal(exitCode, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
        return r.Stderr;
    }

    private static string Csv2017(params string[] rows) => string.Join('\n', ["image_id,melanoma,seborrheic_keratosis", .. rows]);

    private static readonly string[] GoodRows = ["ISIC_0000000,0.0,0.0", "ISIC_0000001,1.0,0.0", "ISIC_0000002,0.0,1.0", "ISIC_0000003,0.0,0.0"];

    [Fact]
    public async Task ImageWithoutLabelRow()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"), Csv2017(GoodRows));
        var e = await Fails(tmp.Path);
        Assert.Contains("ISIC-2017_Training_Data.zip: image ISIC-2017_Training_Data/ISIC_0000004.jpg (id ISIC_0000004) has no row in", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LabelRowWithoutImage()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"), Csv2017([.. GoodRows, "ISIC_0000004,1.0,0.0", "ISIC_0000099,1.0,0.0"]));
        var e = await Fails(tmp.Path);
        Assert.Contains("ISIC-2017_Training_Part3_GroundTruth.csv line 7: image ISIC_0000099 has a label row but no image in ISIC-2017_Training_Data.zip", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateId()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"), Csv2017([.. GoodRows, "ISIC_0000004,1.0,0.0", "ISIC_0000001.jpg,0.0,1.0"]));
        var e = await Fails(tmp.Path);
        Assert.Contains("ISIC-2017_Training_Part3_GroundTruth.csv: image ISIC_0000001 appears twice (lines 3 and 7)", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneHotWithSeveralClasses()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"), Csv2017([.. GoodRows, "ISIC_0000004,1.0,1.0"]));
        var e = await Fails(tmp.Path);
        Assert.Contains("line 6: image ISIC_0000004 has several classes set (melanoma, seborrheic_keratosis)", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneHotWithNoClass_WhenThereIsNoRestClass()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2019(dir);
        var csv = Path.Combine(dir, "ISIC_2019_Training_GroundTruth.csv");
        File.WriteAllText(csv, File.ReadAllText(csv).Replace("ISIC_0000003,0.0,0.0,0.0,1.0", "ISIC_0000003,0.0,0.0,0.0,0.0", StringComparison.Ordinal));
        var e = await Fails(tmp.Path);
        Assert.Contains("ISIC_2019_Training_GroundTruth.csv line 5: image ISIC_0000003 has no class set", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneHotValueNotZeroOrOne()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"), Csv2017([.. GoodRows, "ISIC_0000004,0.5,0.0"]));
        var e = await Fails(tmp.Path);
        Assert.Contains("image ISIC_0000004 has 0.5 in column melanoma, not 0 or 1", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownClassName()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2016(dir);
        File.WriteAllText(Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_GroundTruth.csv"),
            "ISIC_0000000,benign\nISIC_0000001,malignant\nISIC_0000002,benign\nISIC_0000003,melanoma\nISIC_0000004,benign\n");
        var e = await Fails(tmp.Path);
        Assert.Contains("ISBI2016_ISIC_Part3_Training_GroundTruth.csv line 4: image ISIC_0000003 has label 'melanoma', which is not a class (benign, malignant)", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFiles_ListsExpectedNamesWhereAndTheDownloadPage()
    {
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Sub("data"), "isic2018");
        IsicFixtures.Write2018(dir);
        File.Delete(Path.Combine(dir, "ISIC2018_Task3_Training_GroundTruth.zip"));
        var r = await CliRunner.RunAsync("generate", "--in", "isic2018", "--data-dir", tmp.Sub("data"), "--out", tmp.Sub("out"), "--split", "validation");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(
            $"zetaprep: error: isic2018 validation: missing ISIC2018_Task3_Validation_Input.zip, ISIC2018_Task3_Validation_GroundTruth.zip in {dir}; download the official files from https://challenge.isic-archive.com/data/ and put them there as downloaded (unextracted), or point --data-dir/$ZETAPREP_DATA at the folder holding isic2018/.",
            r.Stderr.TrimEnd());
        r = await CliRunner.RunAsync("generate", "--in", dir, "--out", tmp.Sub("out"));
        Assert.Contains("isic2018 train: missing ISIC2018_Task3_Training_GroundTruth.zip in", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImageFolderHoldingACopyOfAnOfficialLabelFile_IsReadAsAnImageFolder()
    {
        // Images sorted into class folders, the official CSV kept beside them: none of the preset's zips, so not a download.
        using var tmp = new TempDir();
        var input = tmp.Sub("sorted");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        File.WriteAllText(Path.Combine(input, "ISIC_2019_Training_GroundTruth.csv"), "image,MEL,NV\n");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--n", "2", "--size", "8", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["class_a", "class_b"], ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Classes);
        // Without class folders it is still a download folder missing its zips, and says so.
        var downloads = tmp.Sub("downloads");
        Directory.CreateDirectory(downloads);
        File.WriteAllText(Path.Combine(downloads, "ISIC_2019_Training_GroundTruth.csv"), "image,MEL,NV\n");
        var missing = await CliRunner.RunAsync("generate", "--in", downloads, "--out", tmp.Sub("out2"), "--quiet");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("isic2019 train: missing ISIC_2019_Training_Input.zip", missing.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Official zips unpacked in place were read as an ImageFolder: the archive folders became the classes and the label
    /// file was ignored, with exit 0 (QA). The zips are asked for instead.
    /// </summary>
    [Fact]
    public async Task AnUnpackedDownload_IsRefused_NotReadAsAnImageFolder()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2017(dir);
        var zip = Path.Combine(dir, "ISIC-2017_Training_Data.zip");
        System.IO.Compression.ZipFile.ExtractToDirectory(zip, dir);
        File.Delete(zip);
        Directory.CreateDirectory(Path.Combine(dir, "ISIC-2017_Validation_Data"));
        File.WriteAllBytes(Path.Combine(dir, "ISIC-2017_Validation_Data", "ISIC_0000009.jpg"), IsicFixtures.Jpeg(9));

        var e = await Fails(tmp.Path);

        Assert.Contains($"--in {dir}: ISIC-2017_Training_Data/, ISIC-2017_Validation_Data/ are unpacked official isic2017 downloads, which ZetaPrep does not read as an ImageFolder (the folders would become the classes); put ISIC-2017_Training_Data.zip, ISIC-2017_Validation_Data.zip there as downloaded (unextracted; the folders may stay)", e, StringComparison.Ordinal);
        // The zip back beside its unpacked folder: the download is read.
        IsicFixtures.Write2017(dir);
        Directory.Delete(Path.Combine(dir, "ISIC-2017_Validation_Data"), recursive: true);
        var r = await CliRunner.RunAsync("generate", "--in", dir, "--out", tmp.Sub("out"), "--n", "2", "--size", "8", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("isic2017", ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Input.Preset);
    }

    /// <summary>
    /// ISIC 2020's zip unpacks into train/, not a folder named like the zip: unpacked beside its label file it was read as
    /// an ImageFolder of one class ('train') and refused as that. A train/ folder without the 2020 label file stays a class.
    /// </summary>
    [Fact]
    public async Task AnUnpacked2020Download_IsRefusedByItsTrainFolder()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2020");
        IsicFixtures.Write2020(dir);
        var zip = Path.Combine(dir, "ISIC_2020_Training_JPEG.zip");
        System.IO.Compression.ZipFile.ExtractToDirectory(zip, dir);
        File.Delete(zip);
        var output = tmp.Sub("out");

        var r = await CliRunner.RunAsync("generate", "--in", dir, "--out", output, "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"zetaprep: error: --in {dir}: train/ is an unpacked official isic2020 download, which ZetaPrep does not read as an ImageFolder (the folders would become the classes); put ISIC_2020_Training_JPEG.zip there as downloaded (unextracted; the folders may stay) from https://challenge.isic-archive.com/data/.", r.Stderr.Trim());
        Assert.False(Directory.Exists(output));

        // Sorted into class folders under train/ beside the label file: an ImageFolder, read as one.
        var sorted = tmp.Sub("sorted");
        foreach (var (image, i) in Directory.GetFiles(Path.Combine(dir, "train")).Select((f, i) => (f, i)))
        {
            var cls = Path.Combine(sorted, "train", i % 2 == 0 ? "benign" : "malignant");
            Directory.CreateDirectory(cls);
            File.Copy(image, Path.Combine(cls, Path.GetFileName(image)));
        }
        File.Copy(Path.Combine(dir, "ISIC_2020_Training_GroundTruth.csv"), Path.Combine(sorted, "ISIC_2020_Training_GroundTruth.csv"));
        var sortedOut = tmp.Sub("sorted-out");
        var read = await CliRunner.RunAsync("generate", "--in", sorted, "--out", sortedOut, "--class-depth", "2", "--n", "2", "--size", "8", "--quiet");
        Assert.True(read.ExitCode == 0, read.Stderr);
        Assert.Equal(["benign", "malignant"], ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(sortedOut, "manifest.json")).Classes);

        // Without the 2020 label file beside it, train/ is a class folder like any other.
        foreach (var csv in Directory.GetFiles(dir, "*.csv"))
        {
            File.Delete(csv);
        }
        Directory.CreateDirectory(Path.Combine(dir, "test"));
        File.WriteAllBytes(Path.Combine(dir, "test", "a.jpg"), IsicFixtures.Jpeg(1));
        File.WriteAllBytes(Path.Combine(dir, "test", "b.jpg"), IsicFixtures.Jpeg(2));
        var folder = await CliRunner.RunAsync("generate", "--in", dir, "--out", output, "--n", "2", "--size", "8", "--quiet");
        Assert.True(folder.ExitCode == 0, folder.Stderr);
        Assert.Equal(["test", "train"], ZetaPrep.Manifests.GenerationManifest.Read(Path.Combine(output, "manifest.json")).Classes);
    }

    /// <summary>A zip that is a link to a moved file or an unmounted disk was "cannot read as a zip …; download it again" (QA).</summary>
    [Fact]
    public async Task AZipLinkedToNothing_IsNamedAsABrokenLink()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2017(dir);
        var zip = Path.Combine(dir, "ISIC-2017_Training_Data.zip");
        File.Delete(zip);
        File.CreateSymbolicLink(zip, "/mnt/zetaprep-test-unmounted/ISIC-2017_Training_Data.zip");

        var e = await Fails(tmp.Path);

        Assert.Contains($"{zip}: a symbolic link to /mnt/zetaprep-test-unmounted/ISIC-2017_Training_Data.zip, which does not exist; fix the link, or mount or restore what it points to.", e, StringComparison.Ordinal);
    }

    /// <summary>Two years' downloads in one folder: one was taken without a word, and --split then named the wrong year (QA).</summary>
    [Fact]
    public async Task DownloadsOfTwoPresetsInOneFolder_AreRefused_NamingBoth()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2017(dir);
        IsicFixtures.Write2019(dir);

        var e = await Fails(tmp.Path, 2);

        Assert.Contains($"--in {dir}: holds official files of isic2017 and isic2019; put each dataset's downloads in a folder of its own, DATA-DIR/isic2017/ and so on, and pass its name: --in isic2017 --data-dir DATA-DIR.", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSplitOfAPreset_IsAUsageError()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2016(tmp.Sub("isic2017"));
        var e = await Fails(tmp.Path, 2, "--split", "validation");
        Assert.Contains("--split validation: isic2016 has no such split; it has train, test.", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptImageInsideTheZip_IsNamedByZipAndEntry_NotAsAFileThatDoesNotExist()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2016(dir);
        var images = IsicFixtures.Images("ISBI2016_ISIC_Part3_Training_Data", ["ISIC_0000000", "ISIC_0000001", "ISIC_0000002", "ISIC_0000003", "ISIC_0000004"]).ToArray();
        images[2] = (images[2].Item1, images[2].Item2[..40]); // ISIC_0000002.jpg cut short
        IsicFixtures.Zip(Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_Data.zip"), images);
        var e = await Fails(tmp.Path);
        Assert.Contains($"{Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_Data.zip")} entry {images[2].Item1}: ", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZipEntryWithDotDot_IsRefused()
    {
        using var tmp = new TempDir();
        var dir = tmp.Sub("isic2017");
        IsicFixtures.Write2016(dir);
        IsicFixtures.Zip(Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_Data.zip"),
            [.. IsicFixtures.Images("ISBI2016_ISIC_Part3_Training_Data", ["ISIC_0000000", "ISIC_0000001", "ISIC_0000002", "ISIC_0000003"]), ("../ISIC_0000004.jpg", IsicFixtures.Jpeg(4))]);
        var e = await Fails(tmp.Path);
        Assert.Contains("entry name '../ISIC_0000004.jpg' is absolute or contains '..'", e, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Datasets_ListsPresetsSplitsClassesAndLocalFiles()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(Path.Combine(tmp.Sub("data"), "isic2017"));
        var r = await CliRunner.RunAsync("datasets", "--data-dir", tmp.Sub("data"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var name in new[] { "isic2016:", "isic2017:", "isic2018:", "isic2019:", "isic2020:" })
        {
            Assert.Contains(name, r.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains("  classes: melanoma, seborrheic_keratosis, nevus", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"  train: ready (2/2 files in {Path.Combine(tmp.Sub("data"), "isic2017")})", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [found] ISIC-2017_Training_Data.zip", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [missing] ISIC-2017_Test_v2_Data.zip", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [missing] ISIC_2020_Training_Duplicates.csv (optional, for --exclude-duplicates)", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("licence: CC-BY-NC 4.0", r.Stdout, StringComparison.Ordinal);
    }
}
