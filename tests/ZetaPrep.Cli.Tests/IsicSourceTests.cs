using System.Globalization;
using System.Security.Cryptography;
using DuckDB.NET.Data;
using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>`generate` on ISIC downloads as published (by path and by preset name), custom labelled CSVs and nested folders.</summary>
public sealed class IsicSourceTests
{
    private static Task<CliRunner.Result> Generate(string output, params string[] input) =>
        CliRunner.RunAsync(["generate", .. input, "--out", output, "--n", "2", "--batch-size", "4", "--size", "8", "--seed", "3", "--quiet"]);

    [Fact]
    public async Task Isic2016_Train_ByPath_ReadsZipInPlace_WithQuirks_AndRecordsProvenance()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2016(tmp.Sub("isic2016"));
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("isic2016"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["benign", "malignant"]);
        var m = GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json"));
        Assert.Equal("isic2016", m.Input.Preset);
        Assert.Equal("train", m.Input.Split);
        // The dataset card inherits the preset's licence.
        Assert.Equal(ZetaPrep.Manifests.DatasetPresets.Find("isic2016")!.Licence, m.Input.Licence);
        Assert.Contains("license_name: ", File.ReadAllText(Path.Combine(tmp.Sub("out"), "README.md")), StringComparison.Ordinal);
        Assert.Equal(["ISBI2016_ISIC_Part3_Training_Data.zip", "ISBI2016_ISIC_Part3_Training_GroundTruth.csv"], m.Input.Files!.Select(f => f.Name));
        foreach (var f in m.Input.Files!)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(tmp.Sub("isic2016"), f.Name));
            Assert.Equal(bytes.Length, f.Bytes);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), f.Sha256);
        }
    }

    [Fact]
    public async Task ASecondRunOverTheSameDownload_TakesItsHashesAndVerdictsFromTheCache_AndRecordsTheSame()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2016(tmp.Sub("isic2016"));
        // Files whose status changed within the last second are not remembered (they may change again within a clock tick).
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        string[] args = ["generate", "--in", tmp.Sub("isic2016"), "--n", "2", "--batch-size", "4", "--size", "8", "--seed", "3", "--quiet", "--profile"];

        var first = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("a")]);
        var second = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("b")]);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("input files: 2 hashed for the manifest", first.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("from the cache", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 unchanged since an earlier run, from the cache", second.Stderr, StringComparison.Ordinal);
        // The validation pass's verdicts on the zip's images too: the zip is unchanged.
        Assert.DoesNotContain("verdicts on", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("validation: verdicts on 5 input(s) from the cache", second.Stderr, StringComparison.Ordinal);
        var a = GenerationManifest.Read(Path.Combine(tmp.Sub("a"), "manifest.json")).Input.Files!;
        var b = GenerationManifest.Read(Path.Combine(tmp.Sub("b"), "manifest.json")).Input.Files!;
        Assert.Equal(a, b);
        foreach (var f in b)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(tmp.Sub("isic2016"), f.Name));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), f.Sha256);
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Sub("a"), "data", "train-00000-of-00001.parquet")),
            File.ReadAllBytes(Path.Combine(tmp.Sub("b"), "data", "train-00000-of-00001.parquet")));
    }

    [Fact]
    public async Task Isic2016_Test_ByPresetName_UnderDataDir_ReadsNumericLabels()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2016(Path.Combine(tmp.Sub("data"), "isic2016"), test: true);
        var r = await Generate(tmp.Sub("out"), "--in", "isic2016", "--data-dir", tmp.Sub("data"), "--split", "test");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["benign", "malignant"]);
        Assert.Equal("test", GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Input.Split);
    }

    /// <param name="zippedOnWindows">The download as re-zipped by a Windows tool that separates folders with '\'.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Isic2017_IgnoresSuperpixelMasksAndMetadata_NeitherColumnIsNevus(bool zippedOnWindows)
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2017(tmp.Sub("isic2017"), windowsNames: zippedOnWindows);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(tmp.Sub("isic2017"), "ISIC-2017_Training_Data.zip")))
        {
            Assert.Contains(zippedOnWindows ? @"ISIC-2017_Training_Data\ISIC_0000000.jpg" : "ISIC-2017_Training_Data/ISIC_0000000.jpg", zip.Entries.Select(e => e.FullName));
        }
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("isic2017"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["melanoma", "seborrheic_keratosis", "nevus"]);
    }

    [Fact]
    public async Task Isic2017_WithoutLibdeflate_InflatesThroughZlib_ToTheSameShards()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2017(tmp.Sub("isic2017"));
        var r = await Generate(tmp.Sub("with"), "--in", tmp.Sub("isic2017"));
        Assert.True(r.ExitCode == 0, r.Stderr);

        // A fresh process that cannot find libdeflate (the variable names a path that does not exist).
        var missing = Path.Combine(tmp.Path, "no-such-libdeflate.so.0");
        var info = await RunWithoutLibdeflateAsync(missing, ["info"]);
        Assert.Contains($"zip entries and PNG checks inflate with: zlib-ng (System.IO.Compression; {missing} not found", info.Stdout, StringComparison.Ordinal);
        var without = await RunWithoutLibdeflateAsync(missing, ["generate", "--in", tmp.Sub("isic2017"), "--out", tmp.Sub("without"), "--n", "2", "--batch-size", "4", "--size", "8", "--seed", "3", "--quiet"]);
        Assert.True(without.ExitCode == 0, without.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Sub("with"), "data", "train-00000-of-00001.parquet")),
            File.ReadAllBytes(Path.Combine(tmp.Sub("without"), "data", "train-00000-of-00001.parquet")));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithoutLibdeflateAsync(string library, string[] args)
    {
        using var child = ChildProcess.Start(new Dictionary<string, string> { [ZetaPrep.Sources.Libdeflate.LibraryEnvironmentVariable] = library }, args);
        return await child.WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task Isic2018_ReadsCsvInsideGroundTruthZip_SkipsLicenceFiles()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2018(tmp.Sub("isic2018"));
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("isic2018"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"]);
    }

    [Fact]
    public async Task Isic2019_KeepsUnkAsAnEmptyClass()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2019(tmp.Sub("isic2019"));
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("isic2019"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK"]);
    }

    [Fact]
    public async Task Isic2020_ExcludeDuplicates_DropsTheSecondOfEachPair()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2020(tmp.Sub("isic2020"));
        truth.Remove("ISIC_2000003");
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("isic2020"), "--exclude-duplicates");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["benign", "malignant"]);
        Assert.Contains("ISIC_2020_Training_Duplicates.csv", GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Input.Files!.Select(f => f.Name));
    }

    [Fact]
    public async Task LabelledCsv_ZipOfImages_WithClassNameColumn()
    {
        using var tmp = new TempDir();
        var truth = new Dictionary<string, int> { ["a1"] = 1, ["a2"] = 0, ["a3"] = 2, ["a4"] = 1 };
        IsicFixtures.Zip(tmp.Sub("imgs.zip"), IsicFixtures.Images("pics/deep", truth.Keys));
        File.WriteAllBytes(tmp.Sub("labels.csv"), IsicFixtures.BomCrlf("file,diagnosis", "a1.jpg,dog", "a2,cat", "a3.JPG,emu", "a4,dog"));
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("imgs.zip"), "--labels", tmp.Sub("labels.csv"), "--id-column", "file", "--label-column", "diagnosis");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["cat", "dog", "emu"]);
    }

    [Fact]
    public async Task LabelledCsv_FolderOfImages_WithProbabilityColumns_KeepsSoftLabels()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Sub("imgs/sub"));
        foreach (var (id, k) in new[] { ("p1", 0), ("p2", 1), ("p3", 2) })
        {
            File.WriteAllBytes(Path.Combine(tmp.Sub("imgs"), k == 2 ? "sub" : "", id + ".png"), IsicFixtures.Jpeg(k));
        }
        File.WriteAllText(tmp.Sub("p.csv"), "image,x,y\np1,0.25,0.75\np2.png,1,0\np3,0.5,0.5\n");
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("p.csv"), "--id-column", "image",
            "--out", tmp.Sub("out"), "--n", "3", "--batch-size", "3", "--size", "8", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["x", "y"], GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Classes);
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        var glob = Path.Combine(tmp.Sub("out"), "data", "*.parquet");
        // label[x] = Σ wᵢ·p(x | sourceᵢ) with p(x) = 0.25, 1, 0.5 for p1, p2, p3.
        Assert.Equal("0", Scalar(db, $"""
            WITH r AS (SELECT * FROM read_parquet('{glob}')),
                 u AS (SELECT sources[1] AS k, unnest(sources) AS id, unnest(weights) AS w FROM r),
                 e AS (SELECT k, sum(w * CASE id WHEN 'p1' THEN 0.25 WHEN 'p2' THEN 1 ELSE 0.5 END) AS x FROM u GROUP BY k)
            SELECT count(*) FROM r JOIN e ON e.k = r.sources[1] WHERE abs(r.label[1] - e.x) > 1e-5 OR abs(list_sum(r.label) - 1) > 1e-5
            """));
        Assert.Equal("3", Scalar(db, $"SELECT count(*) FROM read_parquet('{glob}')"));
    }

    [Fact]
    public async Task LabelledCsv_ExcludedImages_DropTheirLabelRows()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Sub("imgs"));
        var truth = new Dictionary<string, int> { ["p0"] = 0, ["p1"] = 1, ["p2"] = 0 };
        foreach (var (id, i) in new[] { ("p0", 0), ("p1", 1), ("p2", 2), ("p2_mask", 3) })
        {
            File.WriteAllBytes(Path.Combine(tmp.Sub("imgs"), id + ".jpg"), IsicFixtures.Jpeg(i));
        }
        File.WriteAllText(tmp.Sub("labels.csv"), "image,diagnosis\np0,benign\np1,malignant\np2,benign\np2_mask,malignant\n");
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "diagnosis", "--exclude", "*mask*");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["benign", "malignant"]);
    }

    [Fact]
    public async Task NestedFolders_ClassDepthAndExcludeMasks()
    {
        using var tmp = new TempDir();
        var truth = new Dictionary<string, int>();
        var i = 0;
        foreach (var (cls, c) in new[] { ("BCC", 0), ("MEL", 1) })
        {
            for (var lesion = 0; lesion < 2; lesion++, i++)
            {
                var dir = Path.Combine(tmp.Sub("dermofit"), "release", cls, $"{cls}{lesion}");
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, $"{cls}{lesion}.png"), ImageFixtures.Solid(9, 9, 10, 20, (byte)i));
                File.WriteAllBytes(Path.Combine(dir, $"{cls}{lesion}mask.png"), ImageFixtures.Solid(9, 9, 255, 255, 255));
                truth[$"release/{cls}/{cls}{lesion}/{cls}{lesion}.png"] = c;
            }
        }
        var r = await Generate(tmp.Sub("out"), "--in", tmp.Sub("dermofit"), "--class-depth", "2", "--exclude", "*mask*");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertShards(tmp.Sub("out"), truth, ["BCC", "MEL"]);
    }

    /// <summary>Through DuckDB: one row per original (as dominant), the classes, and label = Σ weights × one-hot(class of source).</summary>
    private static void AssertShards(string output, IReadOnlyDictionary<string, int> truth, string[] classes)
    {
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(classes, manifest.Classes);
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        var glob = Path.Combine(output, "data", "*.parquet");
        var values = string.Join(", ", truth.Select(kv => $"('{kv.Key}', {kv.Value.ToString(CultureInfo.InvariantCulture)})"));
        var prelude = $"WITH truth(id, cls) AS (VALUES {values}), r AS (SELECT * FROM read_parquet('{glob}')) ";
        Assert.Equal(string.Join(',', truth.Keys.Order(StringComparer.Ordinal)), Scalar(db, prelude + "SELECT string_agg(sources[1], ',' ORDER BY sources[1]) FROM r"));
        Assert.Equal($"{classes.Length}", Scalar(db, prelude + "SELECT string_agg(DISTINCT len(label)::VARCHAR, ',') FROM r"));
        Assert.Equal("0", Scalar(db, prelude + "SELECT count(*) FROM r JOIN truth ON truth.id = r.sources[1] WHERE r.dominant <> truth.cls"));
        var mismatches = Scalar(db, prelude + """
            , u AS (SELECT sources[1] AS k, unnest(sources) AS id, unnest(weights) AS w FROM r),
              e AS (SELECT k, cls, sum(w) AS w FROM u JOIN truth USING (id) GROUP BY k, cls),
              g AS (SELECT r.sources[1] AS k, unnest(range(len(r.label))) AS c, unnest(r.label) AS v FROM r)
            SELECT count(*) FROM g LEFT JOIN e ON e.k = g.k AND e.cls = g.c WHERE abs(g.v - coalesce(e.w, 0)) > 1e-5
            """);
        Assert.Equal("0", mismatches);
    }

    private static string Scalar(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }
}
