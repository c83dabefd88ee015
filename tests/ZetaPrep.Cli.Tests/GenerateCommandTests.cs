using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using DuckDB.NET.Data;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

public sealed class GenerateCommandTests
{
    [Fact]
    public async Task Generate_WritesHuggingFaceParquetShards_AndManifest_ReadableByDuckDb()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 3, perClass: 9);
        var output = tmp.Sub("out");

        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "4", "--gamma", "2.8",
            "--batch-size", "8", "--shard-rows", "16", "--size", "24", "--seed", "11", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("wrote 27 rows", r.Stdout, StringComparison.Ordinal);

        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.True(manifest.Complete);
        Assert.Equal(["c0", "c1", "c2"], manifest.Classes);
        Assert.Equal(27, manifest.Input.Count);
        Assert.Equal(64, manifest.Input.Fingerprint.Length);
        Assert.Equal("cpu", manifest.Device);
        Assert.Equal(27, manifest.Totals.Rows);
        // 27 inputs in batches of 8 → 8,8,8,3; 16 rows per shard → 16, 8+3=11 → 2 shards.
        Assert.Equal(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"], manifest.Shards.Select(s => s.File));
        Assert.Equal([16L, 11L], manifest.Shards.Select(s => s.Rows));
        foreach (var shard in manifest.Shards)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(output, shard.File));
            Assert.Equal(shard.Bytes, bytes.Length);
            Assert.Equal(shard.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Empty(Directory.EnumerateFiles(output, ".*", SearchOption.AllDirectories));

        // Our reader: every row a 24×24 PNG, soft labels summing to 1, dominant = argmax class of label mass.
        var rows = new List<ShardRow>();
        foreach (var shard in manifest.Shards)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None))
            {
                rows.Add(row);
            }
        }
        Assert.Equal(27, rows.Count);
        Assert.Equal(27, rows.Select(x => x.Sources[0]).Distinct().Count());
        foreach (var row in rows)
        {
            Assert.Equal(24, BinaryPrimitives.ReadInt32BigEndian(row.ImageBytes.Span[16..]));
            Assert.Equal(24, BinaryPrimitives.ReadInt32BigEndian(row.ImageBytes.Span[20..]));
            Assert.Equal(3, row.Label.Length);
            Assert.Equal(1.0, row.Label.Sum(), 5);
            // N = 4, capped at 3 in the final short batch (27 = 3×8 + 3).
            Assert.Equal(string.CompareOrdinal(row.ImagePath, "00000024.png") >= 0 ? 3 : 4, row.Sources.Length);
            Assert.Equal(row.Sources.Length, row.Weights.Length);
            Assert.Equal(1.0, row.Weights.Sum(), 5);
            Assert.True(row.Weights[0] > row.Weights.Skip(1).Sum());
            Assert.Equal(2.8f, row.Gamma);
            Assert.Equal(int.Parse(row.Sources[0][1..2], System.Globalization.CultureInfo.InvariantCulture), row.Dominant);
            Assert.True(row.Label[row.Dominant] >= row.Weights[0] - 1e-6);
        }

        // An independent reader: DuckDB sees the same rows, types and HuggingFace metadata.
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        var glob = Path.Combine(output, "data", "*.parquet");
        Assert.Equal(27L, Scalar<long>(db, $"SELECT count(*) FROM read_parquet('{glob}')"));
        Assert.Equal(27.0, Scalar<double>(db, $"SELECT sum(list_sum(label)) FROM read_parquet('{glob}')"), 4);
        Assert.Equal(0L, Scalar<long>(db, $"SELECT count(*) FROM read_parquet('{glob}') WHERE octet_length(image.bytes) < 60 OR image.path NOT LIKE '%.png'"));
        var types = Query(db, $"SELECT column_name, column_type, \"null\" FROM (DESCRIBE SELECT * FROM read_parquet('{glob}'))");
        Assert.Equal(
            ["image|STRUCT(bytes BLOB, path VARCHAR)|YES", "label|FLOAT[]|YES", "dominant|BIGINT|YES", "sources|VARCHAR[]|YES", "weights|FLOAT[]|YES", "gamma|FLOAT|YES", "original|BOOLEAN|YES", "method|VARCHAR|YES", "lam|FLOAT|YES"],
            types);
        var repetition = Query(db, $"SELECT DISTINCT repetition_type FROM parquet_schema('{Path.Combine(output, manifest.Shards[0].File)}') WHERE repetition_type IS NOT NULL");
        Assert.Equal(["OPTIONAL"], repetition.Where(x => x != "REPEATED"));
        var hf = Scalar<string>(db, $"SELECT decode(value) FROM parquet_kv_metadata('{Path.Combine(output, manifest.Shards[1].File)}') WHERE decode(key) = 'huggingface'");
        using var doc = JsonDocument.Parse(hf);
        var features = doc.RootElement.GetProperty("info").GetProperty("features");
        Assert.Equal("Image", features.GetProperty("image").GetProperty("_type").GetString());
        Assert.Equal("ClassLabel", features.GetProperty("dominant").GetProperty("_type").GetString());
        Assert.Equal(["c0", "c1", "c2"], features.GetProperty("dominant").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Sequence", features.GetProperty("label").GetProperty("_type").GetString());
        Assert.Equal("float32", features.GetProperty("weights").GetProperty("feature").GetProperty("dtype").GetString());
        var zp = Scalar<string>(db, $"SELECT decode(value) FROM parquet_kv_metadata('{Path.Combine(output, manifest.Shards[0].File)}') WHERE decode(key) = 'zetaprep'");
        Assert.Contains("\"seed\":11", zp, StringComparison.Ordinal);
        // The dataset card's features name every column, in order: HuggingFace datasets casts each file to them and
        // refuses a file whose columns differ (the card once left out original, method and lam).
        var card = File.ReadAllLines(Path.Combine(output, "README.md"));
        var cardFeatures = card.SkipWhile(l => l != "  features:").Skip(1).TakeWhile(l => l.StartsWith("  -", StringComparison.Ordinal) || l.StartsWith("    ", StringComparison.Ordinal))
            .Where(l => l.StartsWith("  - name: ", StringComparison.Ordinal)).Select(l => l["  - name: ".Length..]);
        Assert.Equal(types.Select(t => t.Split('|')[0]), cardFeatures);
        Assert.Equal(features.EnumerateObject().Select(p => p.Name), cardFeatures);
    }

    [Theory]
    [InlineData("zeta")]
    [InlineData("mixup")]
    public async Task MixedPixels_AreTheWeightedSumOfTheirSources(string method)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        var colours = ImageFixtures.SolidFolder(input, classes: 2, perClass: 10);
        var output = tmp.Sub("out");
        string[] mixing = method == "zeta" ? ["--n", "3", "--gamma", "min:4"] : ["--method", "mixup"];
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, .. mixing,
            "--batch-size", "6", "--size", "8", "--passes", "2", "--quiet"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(40, manifest.Totals.Rows);
        var checkedPixels = 0;
        foreach (var shard in manifest.Shards)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None))
            {
                var rgb = PngPixels.Decode(row.ImageBytes.ToArray(), out var w, out var h);
                Assert.Equal((8, 8), (w, h));
                // The pixel weights are the weights column rounded to units of 2^-16 (PixelWeights.Units): every mixed
                // pixel is Σ q·x / 65536 of its sources' pixels, rounded half to even, exactly; and within half a level
                // plus 0.016 of the float sum with the column's own weights.
                var units = PixelWeights.Units(row.Weights);
                Assert.Equal(PixelWeights.One, units.Sum());
                for (var ch = 0; ch < 3; ch++)
                {
                    long sum = 0;
                    var real = 0.0;
                    for (var i = 0; i < row.Sources.Length; i++)
                    {
                        var c = colours[row.Sources[i]];
                        var x = ch == 0 ? c.R : ch == 1 ? c.G : c.B;
                        sum += units[i] * x;
                        real += row.Weights[i] * x;
                    }

                    var whole = sum >> 16;
                    var rest = sum & 0xFFFF;
                    var expected = (byte)(whole + (rest > 0x8000 || (rest == 0x8000 && (whole & 1) == 1) ? 1 : 0));
                    for (var p = 0; p < 64; p++)
                    {
                        var actual = rgb[p * 3 + ch];
                        Assert.Equal(expected, actual);
                        Assert.InRange(actual - real, -0.52, 0.52);
                        checkedPixels++;
                    }
                }
            }
        }

        Assert.Equal(40 * 64 * 3, checkedPixels);
    }

    [Fact]
    public async Task SameSeed_GivesByteIdenticalShards_AtAnyThreadCount()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 14);
        var hashes = new List<string[]>();
        foreach (var threads in new[] { "1", "2", "4" })
        {
            var output = tmp.Sub("out" + threads);
            var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "batch", "--gamma", "1:3",
                "--batch-size", "5", "--shard-rows", "10", "--size", "20", "--threads", threads, "--seed", "99", "--quiet");
            Assert.True(r.ExitCode == 0, r.Stderr);
            hashes.Add(Directory.GetFiles(Path.Combine(output, "data")).Order(StringComparer.Ordinal)
                .Select(f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))).ToArray());
        }
        Assert.Equal(3, hashes[0].Length);
        Assert.Equal(hashes[0], hashes[1]);
        Assert.Equal(hashes[0], hashes[2]);

        var other = tmp.Sub("seed100");
        var r2 = await CliRunner.RunAsync("generate", "--in", input, "--out", other, "--n", "batch", "--gamma", "1:3",
            "--batch-size", "5", "--shard-rows", "10", "--size", "20", "--seed", "100", "--quiet");
        Assert.Equal(0, r2.ExitCode);
        Assert.NotEqual(hashes[0][0], Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Directory.GetFiles(Path.Combine(other, "data")).Order(StringComparer.Ordinal).First()))));
    }

    [Theory]
    [InlineData("10MB", "--decode-memory: must be at least 64MiB (got 10,000,000 bytes)")]
    [InlineData("lots", "--decode-memory: 'lots' is not a size")]
    [InlineData("0", "--decode-memory: must be at least 64MiB (got 0 bytes)")]
    public async Task DecodeMemory_BelowTheThresholdOrNotASize_IsAUsageError(string value, string message)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 2);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--decode-memory", value, "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, Assert.Single(r.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("ok"), "--size", "8", "--n", "2", "--decode-memory", "4GiB", "--quiet")).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("auto"), "--size", "8", "--n", "2", "--decode-memory", "AUTO", "--quiet")).ExitCode);
    }

    [Fact]
    public async Task Profile_prints_stage_times_counts_queue_occupancy_and_the_bound()
    {
        var lines = await ProfileLinesAsync(perClass: 10, batchSize: 5);
        // Every input is validated, decoded and encoded once; 20 inputs in 4 batches, one row each. Read counts the inputs
        // read again for their batch: none of these small ones, decoded from the bytes the validation pass kept.
        foreach (var (stage, items) in new[] { ("Validate", 20), ("Read", 0), ("Decode", 20), ("Mix", 4), ("Encode", 20), ("Write", 20), ("WaitForBatch", 4), ("ReadyUnwritten", 4) })
        {
            var line = lines.Single(l => l.StartsWith(stage + " ", StringComparison.Ordinal));
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(items, int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) >= 0, line);
        }
        Assert.Contains(lines, l => l.StartsWith("queue: empty ", StringComparison.Ordinal) && l.Contains("% of wall", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("bound by: ", StringComparison.Ordinal));
        // The wall clock in phases, in order. All but the finish (which ends with writing the manifest, after the manifest's
        // wall time was taken) fall within the run's wall (printed to 10 ms; the phases to 1 ms).
        var wall = double.Parse(System.Text.RegularExpressions.Regex.Match(lines.Single(l => l.StartsWith("stage ", StringComparison.Ordinal)), @"\(wall ([\d.]+) s\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var phases = System.Text.RegularExpressions.Regex.Match(lines.Single(l => l.StartsWith("phases: ", StringComparison.Ordinal)),
            @"^phases: listing ([\d.]+) s, validation ([\d.]+) s, first batch ([\d.]+) s, other batches ([\d.]+) s, finish ([\d.]+) s$");
        Assert.True(phases.Success, string.Join('\n', lines));
        var seconds = Enumerable.Range(1, 5).Select(g => double.Parse(phases.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(seconds[2] > 0, "the first batch takes time: " + phases.Value);
        Assert.True(seconds.Take(4).Sum() <= wall + 0.01, $"{phases.Value} vs wall {wall}");
        // No GPU here (CI): every batch mixed on the CPU, and the profile says so.
        // --device auto (the default) leaves the GPU closed for a run this small, and says why.
        Assert.Contains("mix: all 4 batches on the CPU (--device auto opens a GPU only for runs with over ~1 s of CPU mixing; --device cuda to use one anyway)", lines);
        Assert.Contains(lines, l => l.StartsWith("process start-up before the run ", StringComparison.Ordinal) && l.Contains("process CPU", StringComparison.Ordinal)
            && l.Contains("peak RSS", StringComparison.Ordinal) && l.Contains("gen0/1/2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Profile_batch_buffers_are_as_many_as_batches_in_flight_not_one_per_batch()
    {
        // 48 inputs in 12 batches of 4 at 512²: one batch's buffers (~6 MB) fill what may queue for the writer (8 MiB),
        // so with ~3 batches decoding and ~4 waiting for the writer the pools stay far below the 24 pixel buffers and
        // 12 PNG buffers that a buffer per batch would take.
        var (pixels, pngs) = BatchBuffers(await ProfileLinesAsync(perClass: 24, batchSize: 4, size: 512));
        Assert.InRange(pixels, 2, 8);
        Assert.InRange(pngs, 1, 5);
    }

    [Fact]
    public async Task Profile_small_batches_queue_further_ahead_and_still_reuse_their_buffers()
    {
        // 600 inputs in 200 batches of 3 at 16² (~5 KB of buffers each): up to 64 may queue for the writer, so up to
        // ~66 batches are in flight, each with a pixel buffer for its inputs and one for its outputs, and a PNG buffer;
        // never the 400 and 200 that a buffer per batch would take.
        var (pixels, pngs) = BatchBuffers(await ProfileLinesAsync(perClass: 300, batchSize: 3, fixture: input =>
        {
            for (var i = 0; i < 600; i++)
            {
                var dir = Directory.CreateDirectory(Path.Combine(input, $"c{i % 2}")).FullName;
                File.WriteAllBytes(Path.Combine(dir, $"x{i}.png"), ImageFixtures.Gradient(20, 20, i, SkiaSharp.SKEncodedImageFormat.Png));
            }
        }));
        Assert.InRange(pixels, 2, 2 * 67);
        Assert.InRange(pngs, 1, 67);
    }

    /// <summary>The pixel and PNG buffer counts of the profile's "batch buffers" line.</summary>
    private static (int Pixels, int Pngs) BatchBuffers(string[] lines)
    {
        var line = lines.Single(l => l.StartsWith("batch buffers: ", StringComparison.Ordinal));
        var m = System.Text.RegularExpressions.Regex.Match(line, @"^batch buffers: (\d+) × [\d.]+ MiB pixels, (\d+) × [\d.]+ MiB PNGs");
        Assert.True(m.Success, line);
        return (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The stderr lines of `generate --profile` over 2 classes × <paramref name="perClass"/> images (MixedFolder's, or
    /// what <paramref name="fixture"/> writes), N = 3, <paramref name="size"/>² outputs, 2 threads.
    /// </summary>
    private static async Task<string[]> ProfileLinesAsync(int perClass, int batchSize, int size = 16, Action<string>? fixture = null)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        (fixture ?? (dir => ImageFixtures.MixedFolder(dir, classes: 2, perClass: perClass)))(input);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--n", "3", "--batch-size", batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "2", "--quiet", "--profile");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stderr.Split('\n', StringSplitOptions.TrimEntries);
    }

    [Fact]
    public async Task ExistingOutput_IsRefused_UnlessOverwrite()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        var before = File.ReadAllText(Path.Combine(output, "manifest.json"));
        var again = await CliRunner.RunAsync(args);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--overwrite", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(Path.Combine(output, "manifest.json")));
        Assert.Equal(0, (await CliRunner.RunAsync([.. args, "--overwrite"])).ExitCode);
    }

    [Fact]
    public async Task OutputInsideAnImageFolderInput_IsRefused()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", Path.Combine(input, "out"), "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is inside --in", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(input, "out")));
        // A sibling whose name merely starts with the input's is outside it.
        Assert.Equal(0, (await CliRunner.RunAsync("generate", "--in", input, "--out", input + "-out", "--size", "8", "--n", "2", "--quiet")).ExitCode);
    }

    [Fact]
    public async Task OutputInsideAnImageFolderInput_ThroughASymbolicLink_IsRefused()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var inputLink = Path.Combine(tmp.Path, "in-link");
        Directory.CreateSymbolicLink(inputLink, input);
        var outLink = Path.Combine(tmp.Path, "out-link");
        Directory.CreateSymbolicLink(outLink, Path.Combine(input, "class_a"));
        // --in named through a link, --out inside the real folder; --out a link into --in; --out below such a link.
        foreach (var (source, output) in new[] { (inputLink, Path.Combine(input, "class_a", "gen")), (input, outLink), (input, Path.Combine(outLink, "gen")) })
        {
            var r = await CliRunner.RunAsync("generate", "--in", source, "--out", output, "--format", "folder", "--size", "8", "--n", "2", "--quiet");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("is inside --in", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("(through a symbolic link)", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(["img000.png", "img001.png", "img002.png"], Directory.GetFileSystemEntries(Path.Combine(input, "class_a")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DatasetFilesThatCannotBeWritten_EndTheRunInOneLine_AndResumeFinishesIt()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        File.Delete(Path.Combine(output, "README.md"));
        Directory.CreateDirectory(Path.Combine(output, "README.md", "x")); // the dataset card's path is taken by a folder
        var r = await CliRunner.RunAsync([.. args, "--resume"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("cannot write", r.Stderr, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(output, "README.md"), recursive: true);
        Assert.Equal(0, (await CliRunner.RunAsync([.. args, "--resume"])).ExitCode);
        Assert.True(File.Exists(Path.Combine(output, "README.md")));
    }

    [Fact]
    public async Task ClassFolders_WithoutImages_AreNoClasses_AndTheRunSaysSo()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var quiet = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("plain"), "--size", "8", "--n", "2", "--batch-size", "3", "--quiet");
        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal("", quiet.Stderr); // nothing to say about a well-formed folder

        Directory.CreateDirectory(Path.Combine(input, "class_c"));
        Directory.CreateDirectory(Path.Combine(input, "class_0_notes"));
        File.WriteAllText(Path.Combine(input, "class_0_notes", "readme.txt"), "not an image");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--batch-size", "3", "--quiet");
        Assert.Equal(0, r.ExitCode);
        var note = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Equal($"zetaprep: note: {input}: class folder(s) 'class_0_notes', 'class_c' hold no images, so they are not classes here: the labels have 2 classes; "
            + "a split whose folders do hold images gets other class indices (add images, or remove the folders from every split)", note);
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json")));
        Assert.Equal(["class_a", "class_b"], manifest.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
    }

    /// <summary>Images in a format ZetaPrep does not read, and images outside the class folders, were dropped without a word (QA).</summary>
    [Fact]
    public async Task ImagesTheListingPassesOver_AreNoted()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        foreach (var name in new[] { "class_a/scan0.tif", "class_a/scan1.TIF", "class_b/deep/scan2.tiff", "class_b/photo.heic" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(input, name))!);
            File.WriteAllBytes(Path.Combine(input, name), [1, 2, 3]);
        }
        File.Copy(Path.Combine(input, "class_a", "img000.png"), Path.Combine(input, "loose.png"));
        File.WriteAllText(Path.Combine(input, "class_a", "notes.txt"), "not an image, not noted");

        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--batch-size", "3", "--quiet");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var note = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Equal($"zetaprep: note: {input}: not read: 4 file(s) in formats ZetaPrep does not read (1 .heic, 2 .tif, 1 .tiff; convert them to PNG to include them); "
            + "1 image(s) outside the class folders, so in no class (loose.png)", note);
        Assert.Equal(6, JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json"))).RootElement.GetProperty("input").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task ExcludePatterns_ThatMatchNothing_AreNoted_AndOnesThatMatchAreNot()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 3, 3); // class_{a,b,c}/img00{0,1,2}.png
        // '*class_c*' is meant to leave out a folder, but '*' does not cross the '/' of class_c/img000.png; 'class_b/**'
        // does; 'IMG002*' matches file names (case-insensitively) in every class, also those 'class_b/**' matched.
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--batch-size", "3",
            "--exclude", "*class_c*", "--exclude", "class_b/**", "--exclude", "IMG002*", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var notes = r.Stderr.TrimEnd().Split('\n');
        Assert.Equal(2, notes.Length);
        Assert.StartsWith($"zetaprep: note: {input}: class folder(s) 'class_b' hold no images", notes[0], StringComparison.Ordinal); // emptied by --exclude
        var note = notes[1];
        Assert.StartsWith($"zetaprep: note: --exclude '*class_c*' matched no image of {input}, so it left nothing out: ", note, StringComparison.Ordinal);
        Assert.Contains("'**/masks/**' leaves out every folder named masks", note, StringComparison.Ordinal);
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json")));
        Assert.Equal(["class_a", "class_c"], manifest.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(4, manifest.RootElement.GetProperty("input").GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("nl\nx", "nl\\u000Ax")]
    [InlineData("tab\tx", "tab\\u0009x")]
    public async Task ClassNames_WithControlCharacters_AreRefusedBeforeAnyWrite(string folder, string shown)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 2);
        Directory.Move(Path.Combine(input, "class_b"), Path.Combine(input, folder));
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--batch-size", "2", "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"zetaprep: error: {input}: class name '{shown}' holds a control character (a tab, newline or the like), which the dataset card and loaders' class labels cannot carry as written; rename that class folder (or label value) without one.", r.Stderr.Trim());
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    public static TheoryData<string[], string> BadInvocations => new()
    {
        { ["--n", "1"], "--n" },
        { ["--n", "9", "--batch-size", "8"], "--n 9" },
        { ["--n", "x"], "--n" },
        { ["--gamma", "0"], "--gamma" },
        { ["--gamma", "-2"], "--gamma" },
        { ["--gamma", "NaN"], "(got NaN;" }, // not "got NaN:NaN" (QA)
        { ["--size", "0"], "--size" },
        { ["--threads", "0"], "--threads" },
        { ["--threads", "536870912"], "--threads: must be an integer from 1 to 4096 (got 536870912)" }, // 2^29 × 8 wrapped to 0: a crash (exit 134)
        { ["--threads", "4097"], "--threads: must be an integer from 1 to 4096" },
        { ["--batch-size", "1"], "--batch-size" },
        { ["--resize", "zoom"], "zoom" },
        { ["--device", "tpu"], "tpu" },
        { ["--size", "abc"], "abc" },
        { ["--codec", "libjpeg"], "--codec" },
        { ["--png-level", "10"], "--png-level" },
        { ["--png-level", "fast"], "--png-level" },
    };

    [Theory]
    [MemberData(nameof(BadInvocations))]
    public async Task BadOptions_AreOneLineUsageErrors_AndWriteNothing(string[] extra, string mention)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--quiet", .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(mention, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData(50, "100", "4000", false, "use --batch-size 44 or less")] // 100 × 4000² × 3 bytes: 4.5 GiB of pixels per batch
    [InlineData(20, "40", "4096", true, "use --batch-size 21 or less")] // 40 × 4096² × 3 pixels fit; 80 PNG slots do not
    public async Task Batches_larger_than_an_array_are_a_usage_error_naming_the_batch_size_that_fits(int perClass, string batchSize, string size, bool keepOriginals, string advice)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, perClass);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--quiet", "--batch-size", batchSize, "--size", size];
        var r = await CliRunner.RunAsync(keepOriginals ? [.. args, "--keep-originals"] : args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"--batch-size {batchSize}: a batch of {batchSize} images of {size}×{size}", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(advice, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task BadInputs_AreOneLineUsageErrors_AndWriteNothing()
    {
        using var tmp = new TempDir();
        var output = tmp.Sub("out");
        var missing = await CliRunner.RunAsync("generate", "--in", tmp.Sub("nope"), "--out", output);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr, StringComparison.Ordinal);

        Directory.CreateDirectory(tmp.Sub("empty"));
        var empty = await CliRunner.RunAsync("generate", "--in", tmp.Sub("empty"), "--out", output);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("no images", empty.Stderr, StringComparison.Ordinal);

        ImageFixtures.SolidFolder(tmp.Sub("one"), 1, 4);
        var one = await CliRunner.RunAsync("generate", "--in", tmp.Sub("one"), "--out", output);
        Assert.Equal(2, one.ExitCode);
        Assert.Contains("only one class", one.Stderr, StringComparison.Ordinal);

        ImageFixtures.SolidFolder(tmp.Sub("ok"), 2, 2);
        Directory.CreateDirectory(tmp.Sub("busy"));
        File.WriteAllText(Path.Combine(tmp.Sub("busy"), "thesis.tex"), "precious");
        var busy = await CliRunner.RunAsync("generate", "--in", tmp.Sub("ok"), "--out", tmp.Sub("busy"));
        Assert.Equal(2, busy.ExitCode);
        Assert.Contains("not empty", busy.Stderr, StringComparison.Ordinal);
        Assert.Equal(["thesis.tex"], Directory.GetFileSystemEntries(tmp.Sub("busy")).Select(Path.GetFileName));

        foreach (var r in new[] { missing, empty, one, busy })
        {
            Assert.Single(r.Stderr.TrimEnd().Split('\n'));
            Assert.StartsWith("zetaprep: error: ", r.Stderr, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task CorruptImage_StopsTheRun_NamingTheFile_BeforeAnyShard()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        File.WriteAllBytes(Path.Combine(input, "class_b", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("class_b/broken.png", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task DeviceCuda_NeedsOnlyTheDriver_AndWithoutItIsAUsageError()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--device", "cuda", "--size", "16");
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out _))
        {
            // A GPU machine: the CUDA kernel runs through the driver alone and says so in the manifest.
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("\"device\": \"cuda\"", File.ReadAllText(Path.Combine(output, "manifest.json")), StringComparison.Ordinal);
            return;
        }
        // No NVIDIA driver (CI): one line naming the option and the missing library, before any input is read.
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("--device cuda: CUDA cannot be used here: the NVIDIA driver library libcuda.so.1 is not installed", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    private static T Scalar<T>(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<string> Query(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }
}
