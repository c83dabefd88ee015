using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

/// <summary>
/// verify holds every row to the format and to the run (QA): shards re-packed and re-recorded in manifest.json (and the
/// wids index), so that only the rows can tell. Each defect is its row's problem line, and the rows after it are checked.
/// </summary>
public sealed class VerifyRowsTests
{
    /// <summary>12 inputs, --n 4, batch 4, shard rows 4 (8 with --keep-originals): 3 shards.</summary>
    private static async Task<string> GenerateAsync(TempDir tmp, string format, params string[] more)
    {
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--n", "4", "--batch-size", "4", "--size", "10",
            "--format", format, "--quiet", .. more]);
        Assert.True(g.ExitCode == 0, g.Stderr);
        return output;
    }

    private static List<string> Problems(CliRunner.Result r) => [.. r.Stdout.Split('\n').Where(l => l.StartsWith("problem: ", StringComparison.Ordinal))];

    [Fact]
    public async Task WebDataset_ASampleWithoutItsClsOrWithAnExtraMember_OrARowTheRunDidNotMake_IsAProblem()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, "webdataset", "--shard-rows", "4");
        Assert.Equal(0, (await CliRunner.RunAsync("verify", output)).ExitCode);

        await RepackAsync(output, "shard-000000.tar", members =>
        {
            var (png, json, cls) = (members[0], members[1], members[2]);
            Assert.Equal(["00000000.png", "00000000.json", "00000000.cls"], new[] { png, json, cls }.Select(m => m.Name));
            members[1] = cls; // 00000000: .cls before .json
            members[2] = json;
            members.RemoveAt(5); // 00000001.cls
            members.Insert(8, ("00000002.txt", "x"u8.ToArray())); // after 00000002.cls
            var at = members.FindIndex(m => m.Name == "00000003.json");
            members[at] = (members[at].Name, EditJson(members[at].Data, j => j["original"] = true)); // a zeta row of 4 sources
        });
        await RepackAsync(output, "shard-000001.tar", members =>
        {
            var cls = members.FindIndex(m => m.Name == "00000004.cls");
            members[cls] = (members[cls].Name, Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(members[cls].Data) == "0" ? "1" : "0"));
            var json = members.FindIndex(m => m.Name == "00000005.json");
            members[json] = (members[json].Name, EditJson(members[json].Data, j => j["method"] = "cutmix"));
            members.RemoveAt(members.FindIndex(m => m.Name == "00000006.png"));
        });

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var problems = Problems(r);
        Assert.Equal(7, problems.Count);
        Assert.Equal("problem: shard-000000.tar row 0 (00000000.png): sample '00000000' has its members in the order 00000000.png, 00000000.cls, 00000000.json; a sample is 00000000.png, 00000000.json, 00000000.cls, in that order.", problems[0]);
        Assert.Equal("problem: shard-000000.tar row 1 (00000001.png): sample '00000001' lacks 00000001.cls; a sample is 00000001.png, 00000001.json, 00000001.cls, in that order.", problems[1]);
        Assert.Equal("problem: shard-000000.tar row 2 (00000002.png): sample '00000002' has an extra member 00000002.txt; a sample is 00000002.png, 00000002.json, 00000002.cls, in that order.", problems[2]);
        Assert.StartsWith("problem: shard-000000.tar row 3 (00000003.png): original is true, but the row has 4 sources, weights [0.", problems[3], StringComparison.Ordinal);
        Assert.EndsWith("] and method zeta; an original (the unmixed input) has one source, itself, with weights [1] and method none.", problems[3], StringComparison.Ordinal);
        Assert.Equal("problem: shard-000001.tar row 0 (00000004.png): sample '00000004': 00000004.cls disagrees with dominant in 00000004.json.", problems[4]);
        Assert.Equal("problem: shard-000001.tar row 1 (00000005.png): method is cutmix, but manifest.json's options (method zeta) make only zeta rows.", problems[5]);
        // Without its image the sample is no row, and the row after it is still read.
        Assert.Equal("problem: shard-000001.tar row 2: sample '00000006' lacks 00000006.png; a sample is 00000006.png, 00000006.json, 00000006.cls, in that order.", problems[6]);
        Assert.Contains("FAILED: 3 shard(s), 12 row(s) checked, 7 problem(s), 0 warning(s)", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The row checks of the original flag and the method are every format's: here Parquet, with --keep-originals.</summary>
    [Fact]
    public async Task Parquet_AnOriginalFlagThatDisagreesWithTheRow_OrAMethodTheRunDidNotUse_IsAProblem()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, "parquet", "--shard-rows", "8", "--keep-originals");
        Assert.Equal(0, (await CliRunner.RunAsync("verify", output)).ExitCode);
        const string shard = "data/train-00000-of-00003.parquet";
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var format = ShardFormats.Get(ShardFormat.Parquet);
        var rows = new List<ShardRow>();
        await foreach (var row in format.ReadRowsAsync(output, shard, CancellationToken.None))
        {
            rows.Add(row);
        }
        // Rows 0-3 are the batch's originals, 4-7 its ζ rows.
        Assert.Equal([true, true, true, true, false, false, false, false], rows.Select(x => x.Original));
        rows[0] = rows[0] with { Original = false };
        rows[4] = rows[4] with { Original = true };
        rows[5] = rows[5] with { Method = "cutmix" };
        File.Delete(Path.Combine(output, shard));
        await using (var writer = await format.CreateWriterAsync(output, shard, new ShardSchema(manifest.Classes, "{}"), CancellationToken.None))
        {
            await writer.WriteRowGroupAsync(rows, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }
        Rerecord(output, shard);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var problems = Problems(r);
        Assert.Equal(3, problems.Count);
        Assert.Equal($"problem: {shard} row 0 (00000000.png): method is none (an unmixed original), but original is false.", problems[0]);
        Assert.StartsWith($"problem: {shard} row 4 (00000004.png): original is true, but the row has 4 sources, weights [0.", problems[1], StringComparison.Ordinal);
        Assert.EndsWith("] and method zeta; an original (the unmixed input) has one source, itself, with weights [1] and method none.", problems[1], StringComparison.Ordinal);
        Assert.Equal($"problem: {shard} row 5 (00000005.png): method is cutmix, but manifest.json's options (method zeta) make only zeta and none rows.", problems[2]);
    }

    private static byte[] EditJson(byte[] json, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        edit(node);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    /// <summary>Re-packs a tar as Python's tarfile would (USTAR, mtime 0, mode 0644), edited, and re-records it in manifest.json and shardindex.json.</summary>
    private static async Task RepackAsync(string output, string shard, Action<List<(string Name, byte[] Data)>> edit)
    {
        var path = Path.Combine(output, shard);
        var members = new List<(string Name, byte[] Data)>();
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                members.Add((entry.Name, data.ToArray()));
            }
        }
        edit(members);
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Ustar, leaveOpen: false))
        {
            foreach (var (name, data) in members)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(data),
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
            }
        }
        Rerecord(output, shard);
        var files = GenerationManifest.Read(Path.Combine(output, "manifest.json")).Shards.Select(s => s.File).ToList();
        foreach (var (relative, bytes) in await ShardFormats.Get(ShardFormat.WebDataset).BuildIndexAsync(output, files, CancellationToken.None))
        {
            File.WriteAllBytes(Path.Combine(output, relative), bytes);
        }
    }

    /// <summary>Writes a shard's new size and SHA-256 into manifest.json (its entry and totals.bytes).</summary>
    private static void Rerecord(string output, string shard)
    {
        var path = Path.Combine(output, "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var bytes = File.ReadAllBytes(Path.Combine(output, shard));
        var entry = json["shards"]!.AsArray().Single(e => e!["file"]!.GetValue<string>() == shard)!;
        json["totals"]!["bytes"] = json["totals"]!["bytes"]!.GetValue<long>() - entry["bytes"]!.GetValue<long>() + bytes.Length;
        entry["bytes"] = bytes.Length;
        entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllText(path, json.ToJsonString());
    }
}
