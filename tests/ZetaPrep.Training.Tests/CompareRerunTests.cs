using System.Text.Json;

namespace ZetaPrep.Training.Tests;

/// <summary>Reruns of compare into the same --out: what is reused, and what results.md/json say about the settings.</summary>
public sealed class CompareRerunTests
{
    private static readonly string[] Classes = ["blue", "green"];

    [Fact]
    public async Task Compare_NoneShards_AreReusedWhateverNGamma_AndResultsStateDIntSettingsAndFullPaths()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var outDir = tmp.Sub("cmp");
        string[] Args(params string[] more) => CompareArgs.Tiny(train, val, outDir, ["--k", "2", "--max-samples", "4", .. more]);

        var first = await TrainFixtures.RunCliAsync(Args());
        Assert.True(first.ExitCode == 0, first.Stderr);
        // No ζ method ran: no N/γ in the heading; the D_int settings are stated. results.json records --val and --in in full.
        var heading = File.ReadAllLines(Path.Combine(outDir, "results.md"))[0];
        Assert.DoesNotContain("ζ-mixup", heading, StringComparison.Ordinal);
        Assert.Contains("(k = 2, at most 4 sampled images, --max-samples)", heading, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json"))))
        {
            var options = doc.RootElement.GetProperty("options");
            Assert.Equal(Path.GetFullPath(val), options.GetProperty("val").GetString());
            Assert.Equal(Path.GetFullPath(train), options.GetProperty("input").GetString());
            Assert.Equal(JsonValueKind.Null, options.GetProperty("n").ValueKind);
        }

        // --n and --gamma change no byte of `none` shards: adding a ζ method with its own N and γ reuses the run, not refuses it.
        var otherN = await TrainFixtures.RunCliAsync(Args("--methods", "none,zeta", "--n", "4", "--gamma", "5"));
        Assert.True(otherN.ExitCode == 0, otherN.Stderr);
        Assert.Contains("2 run(s) (1 reused)", otherN.Stdout, StringComparison.Ordinal);
    }

}
