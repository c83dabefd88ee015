using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using DuckDB.NET.Data;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

/// <summary>--format webdataset|folder end to end: same rows as Parquet, read back by our readers and independent ones.</summary>
public sealed class ShardFormatTests
{
    private static async Task<string> GenerateAsync(TempDir tmp, string input, string format)
    {
        var output = tmp.Sub(format);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "3", "--gamma", "min:4",
            "--batch-size", "8", "--shard-rows", "16", "--size", "12", "--seed", "5", "--format", format, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return output;
    }

    internal static async Task<List<ShardRow>> ReadAllAsync(string output)
    {
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var format = ShardFormats.Get(manifest.Options.Format);
        var rows = new List<ShardRow>();
        foreach (var shard in manifest.Shards)
        {
            await foreach (var row in format.ReadRowsAsync(output, shard.File, CancellationToken.None))
            {
                rows.Add(row);
            }
        }
        return rows;
    }

    private static void AssertSameRows(List<ShardRow> expected, List<ShardRow> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].ImageBytes.ToArray(), actual[i].ImageBytes.ToArray());
            Assert.Equal(expected[i].ImagePath, actual[i].ImagePath);
            Assert.Equal(expected[i].Label, actual[i].Label);
            Assert.Equal(expected[i].Dominant, actual[i].Dominant);
            Assert.Equal(expected[i].Sources, actual[i].Sources);
            Assert.Equal(expected[i].Weights, actual[i].Weights);
            Assert.Equal(expected[i].Gamma, actual[i].Gamma);
        }
    }

    [Fact]
    public async Task WebDataset_IsPlainUstar_ReadableByTarReaderAndGnuTar_WithAWidsIndex()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 3, perClass: 9);
        var parquet = await GenerateAsync(tmp, input, "parquet");
        var output = await GenerateAsync(tmp, input, "webdataset");

        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal("webdataset", manifest.Options.Format);
        Assert.Equal(["shard-000000.tar", "shard-000001.tar"], manifest.Shards.Select(s => s.File));
        Assert.Empty(Directory.EnumerateFiles(output, ".*", SearchOption.AllDirectories));
        AssertSameRows(await ReadAllAsync(parquet), await ReadAllAsync(output));

        // Independent reader 1: System.Formats.Tar sees plain ustar regular files only, keys adjacent and unique.
        var keys = new List<string>();
        foreach (var shard in manifest.Shards)
        {
            var path = Path.Combine(output, shard.File);
            var bytes = await File.ReadAllBytesAsync(path);
            Assert.Equal(shard.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(0, bytes.Length % 512);
            Assert.All(bytes[^1024..], b => Assert.Equal(0, b));
            await using var stream = File.OpenRead(path);
            using var reader = new TarReader(stream);
            var names = new List<string>();
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                Assert.Equal(TarEntryFormat.Ustar, entry.Format);
                Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
                Assert.True(System.Text.Encoding.UTF8.GetByteCount(entry.Name) <= 100);
                Assert.Equal(0, entry.Uid);
                Assert.Equal(DateTimeOffset.UnixEpoch, entry.ModificationTime);
                Assert.Equal("", ((PosixTarEntry)entry).UserName);
                names.Add(entry.Name);
                if (entry.Name.EndsWith(".json", StringComparison.Ordinal))
                {
                    using var json = JsonDocument.Parse(entry.DataStream!);
                    Assert.Equal(1.0, json.RootElement.GetProperty("label").EnumerateArray().Sum(e => e.GetDouble()), 4);
                }
            }
            Assert.Equal(3 * shard.Rows, names.Count);
            for (var i = 0; i < names.Count; i += 3)
            {
                var key = names[i][..names[i].IndexOf('.', StringComparison.Ordinal)];
                Assert.DoesNotContain('.', key);
                Assert.Equal([key + ".png", key + ".json", key + ".cls"], names.Skip(i).Take(3));
                keys.Add(key);
            }
        }
        Assert.Equal(27, keys.Count);
        Assert.Equal(keys.Count, keys.Distinct().Count());

        // Independent reader 2: GNU tar lists and extracts every member without complaint.
        var listing = RunTar("-tvf", Path.Combine(output, "shard-000000.tar"));
        Assert.Equal(48, listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("-rw-r--r-- 0/0", listing, StringComparison.Ordinal);
        var extract = tmp.Sub("x");
        Directory.CreateDirectory(extract);
        RunTar("-xf", Path.Combine(output, "shard-000001.tar"), "-C", extract);
        var row16 = (await ReadAllAsync(parquet))[16];
        Assert.Equal(row16.Dominant.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(extract, "00000016.cls")));
        Assert.Equal(row16.ImageBytes.ToArray(), File.ReadAllBytes(Path.Combine(extract, "00000016.png")));

        // The wids index: one entry per tar with its MD5, size and sample count.
        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "shardindex.json")));
        Assert.Equal("wids-shard-index-v1", index.RootElement.GetProperty("__kind__").GetString());
        Assert.Equal(1, index.RootElement.GetProperty("wids_version").GetInt32());
        var list = index.RootElement.GetProperty("shardlist").EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(output, manifest.Shards[i].File));
            Assert.Equal(manifest.Shards[i].File, list[i].GetProperty("url").GetString());
#pragma warning disable CA5351 // the wids format specifies MD5
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(bytes)), list[i].GetProperty("md5sum").GetString());
#pragma warning restore CA5351
            Assert.Equal(bytes.Length, list[i].GetProperty("filesize").GetInt64());
            Assert.Equal(manifest.Shards[i].Rows, list[i].GetProperty("nsamples").GetInt64());
        }
    }

    [Fact]
    public async Task Folder_WritesImagesAndLabelsParquet_ReadableByDuckDb()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 3, perClass: 9);
        var parquet = await GenerateAsync(tmp, input, "parquet");
        var output = await GenerateAsync(tmp, input, "folder");

        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(["labels/train-00000-of-00002.parquet", "labels/train-00001-of-00002.parquet"], manifest.Shards.Select(s => s.File));
        Assert.Empty(Directory.EnumerateFiles(output, ".*", SearchOption.AllDirectories));
        Assert.Equal(27, Directory.GetFiles(Path.Combine(output, "images"), "*.png").Length);
        var parquetRows = await ReadAllAsync(parquet);
        AssertSameRows(parquetRows, await ReadAllAsync(output));

        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT file_name, list_sum(label), dominant, sha256 FROM read_parquet('{Path.Combine(output, "labels.parquet")}') ORDER BY file_name";
        using var reader = cmd.ExecuteReader();
        var n = 0;
        while (reader.Read())
        {
            var file = reader.GetString(0);
            Assert.Equal($"images/{n:D8}.png", file);
            Assert.Equal(1.0, reader.GetDouble(1), 4);
            Assert.Equal(parquetRows[n].Dominant, reader.GetInt64(2));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(output, file)))), reader.GetString(3));
            n++;
        }
        Assert.Equal(27, n);

        // The table and its parts carry the HuggingFace features, as a Parquet shard does: `load_dataset("parquet",
        // data_files="labels.parquet")`, the card's own snippet, then gives dominant as a ClassLabel of the classes, not
        // a bare int64 (QA).
        foreach (var table in new[] { "labels.parquet", manifest.Shards[0].File })
        {
            using var kv = db.CreateCommand();
            kv.CommandText = $"SELECT decode(value) FROM parquet_kv_metadata('{Path.Combine(output, table)}') WHERE decode(key) = 'huggingface'";
            using var features = JsonDocument.Parse((string)kv.ExecuteScalar()!);
            var f = features.RootElement.GetProperty("info").GetProperty("features");
            Assert.Equal("ClassLabel", f.GetProperty("dominant").GetProperty("_type").GetString());
            Assert.Equal(manifest.Classes, f.GetProperty("dominant").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["file_name", "label", "dominant", "sources", "weights", "gamma", "original", "method", "lam", "sha256"],
                f.EnumerateObject().Select(p => p.Name));
        }
    }

    /// <summary>The summary line's size is the shards' size on disk: for the folder format the images too, not only the
    /// label parts that the manifest's per-shard bytes (checked by verify) stand for.</summary>
    [Theory]
    [InlineData("parquet")]
    [InlineData("webdataset")]
    [InlineData("folder")]
    public async Task SummaryLine_ReportsTheShardsSizeOnDisk_ImagesIncluded(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 10);
        var output = tmp.Sub("out");
        // Stored PNGs (--png-level 0): 20 × ~12 KB of images, where the label parts are a few KB.
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "64", "--png-level", "0", "--n", "2",
            "--batch-size", "4", "--shard-rows", "8", "--format", format, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var onDisk = manifest.Shards.Sum(s => new FileInfo(Path.Combine(output, s.File)).Length);
        if (format == "folder")
        {
            onDisk += Directory.GetFiles(Path.Combine(output, "images")).Sum(f => new FileInfo(f).Length);
            Assert.True(onDisk > 4 * manifest.Totals.Bytes, $"{onDisk} vs {manifest.Totals.Bytes}");
        }
        else
        {
            Assert.Equal(manifest.Totals.Bytes, onDisk);
        }
        var summary = r.Stdout.Split('\n')[0];
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $" in {manifest.Shards.Count} shard(s), {onDisk / 1048576.0:F1} MiB, to "), summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("parquet", "data/*.parquet")]
    [InlineData("webdataset", "shard-*.tar")]
    [InlineData("folder", "labels.parquet")]
    public async Task DatasetCard_HasTheYamlHeader_NamingTheFormatsDataFiles(string format, string dataFiles)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 5);
        var output = await GenerateAsync(tmp, input, format);
        var card = await File.ReadAllTextAsync(Path.Combine(output, "README.md"));
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(DatasetCard.Render(manifest), card);
        Assert.StartsWith("---\n", card, StringComparison.Ordinal);
        var header = card[4..(card.IndexOf("\n---\n", 4, StringComparison.Ordinal) + 1)];
        Assert.Contains($"  data_files:\n  - split: train\n    path: '{dataFiles}'\n", header, StringComparison.Ordinal);
        Assert.Contains("task_categories:\n- image-classification\n", header, StringComparison.Ordinal);
        Assert.Contains("tags:\n- zeta-mixup\n- synthetic\n", header, StringComparison.Ordinal);
        Assert.Contains("license: ", header, StringComparison.Ordinal);
        Assert.Contains("  splits:\n  - name: train\n    num_examples: 10\n", header, StringComparison.Ordinal);
        Assert.Contains("'1': 'class_b'", header, StringComparison.Ordinal);
        Assert.Contains(manifest.CommandLine, card, StringComparison.Ordinal);
        Assert.Contains(manifest.Input.Fingerprint, card, StringComparison.Ordinal);
        Assert.Contains("| seed | 5 |", card, StringComparison.Ordinal);
        Assert.Contains("DuckDB", card, StringComparison.Ordinal);
        Assert.Contains("webdataset", card, StringComparison.Ordinal);
    }

    private static string RunTar(params string[] args)
    {
        var psi = new ProcessStartInfo("tar", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0 && stderr.Length == 0, stderr);
        return stdout;
    }
}
