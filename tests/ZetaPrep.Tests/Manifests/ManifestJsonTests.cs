using System.Text.Json.Nodes;
using ZetaPrep.Manifests;

namespace ZetaPrep.Tests.Manifests;

/// <summary>
/// The manifest and presets are read with compile-time JSON metadata, which hands an init-only property missing from
/// the JSON its type's default (dotnet/runtime#84484): the documented defaults must hold anyway.
/// </summary>
public sealed class ManifestJsonTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-manifest-json-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Preset(string labels) => $$"""
        {
          "name": "p", "title": "t", "classes": ["a", "b"], "licence": "l", "download_url": "u",
          "splits": { "train": { "images": ["x.zip"], "labels": {{labels}} } }
        }
        """;

    [Theory]
    [InlineData("""{ "file": "l.csv", "id_column": "id", "style": "class", "label_column": "c" }""", true)]
    [InlineData("""{ "file": "l.csv", "id_column": "id", "header": true, "style": "class", "label_column": "c" }""", true)]
    [InlineData("""{ "file": "l.csv", "header": false, "style": "class" }""", false)]
    public void PresetHeader_IsTrueUnlessThePresetSaysFalse(string labels, bool header)
    {
        var spec = DatasetPresets.Parse(Preset(labels), "p.json").Splits["train"].Labels;
        Assert.Equal(header, spec.Header);
        Assert.Equal(LabelStyle.Class, spec.Style);
    }

    [Fact]
    public void EmbeddedPresets_KeepTheirHeaderSettings()
    {
        Assert.False(DatasetPresets.Find("isic2016")!.Splits["train"].Labels.Header);
        Assert.True(DatasetPresets.Find("isic2017")!.Splits["train"].Labels.Header);
        Assert.Equal("nevus", DatasetPresets.Find("isic2017")!.Splits["train"].Labels.RestClass);
    }

    [Fact]
    public void Manifest_RoundTrips_AndOlderManifestsWithoutSkippedOrFormatGetTheDefaults()
    {
        var manifest = new GenerationManifest
        {
            Tool = new ToolInfo("zetaprep", "1.0"),
            CommandLine = "zetaprep generate",
            Options = new GenerationOptionsRecord("in", "8", "2.8", 32, 1, 7, 1000, 224, "crop", "parquet", "cpu", 2, 100, Alpha: 0.4),
            Device = "cpu",
            Classes = ["a", "b"],
            Input = new InputInfo("in", 3, "abc"),
            Skipped = [new SkippedInput("x.jpg", "not an image")],
            Plan = new PlanInfo(3, 1, 1),
            Shards = [new ShardEntry("data/train-00000-of-00001.parquet", 3, 100, "ff")],
            Totals = new Totals(3, 100),
            Complete = true,
            StartedUtc = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero),
        };
        var path = Path.Combine(_root, GenerationManifest.FileName);
        manifest.WriteAtomically(path);
        var read = GenerationManifest.Read(path);
        Assert.Equal(manifest.ToJson(), read.ToJson());
        Assert.Equal("not an image", Assert.Single(read.Skipped).Reason);
        Assert.Equal(0.4, read.Options.Alpha);

        var old = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        old.Remove("skipped");
        old.Remove("format");
        old.Remove("format_version");
        old["options"]!.AsObject().Remove("codec"); // options added later take the record's parameter defaults
        File.WriteAllText(path, old.ToJsonString());
        var older = GenerationManifest.Read(path);
        Assert.Empty(older.Skipped);
        Assert.Equal("zetaprep-manifest", older.Format);
        Assert.Equal(GenerationManifest.CurrentFormatVersion, older.FormatVersion);
        Assert.Equal("skia", older.Options.Codec);
        Assert.Equal(manifest.Shards, older.Shards);
    }
}
