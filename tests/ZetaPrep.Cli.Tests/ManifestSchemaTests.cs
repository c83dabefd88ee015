using System.Text.Json.Nodes;

namespace ZetaPrep.Cli.Tests;

public sealed class ManifestSchemaTests
{
    [Fact]
    public async Task WrittenManifest_HasEveryPropertyTheSchemaRequires_WithTheDeclaredTypes()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 4);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--size", "8", "--n", "3", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json")))!;
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "manifests", "manifest.schema.json")))!;
        Check(schema, manifest, "$");
    }

    [Fact]
    public async Task PresetManifest_WithPresetSplitAndFiles_MatchesTheSchema()
    {
        using var tmp = new TempDir();
        IsicFixtures.Write2016(tmp.Sub("isic"));
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("isic"), "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json")))!;
        Assert.Equal("isic2016", manifest["input"]!["preset"]!.GetValue<string>());
        Assert.Equal(2, manifest["input"]!["files"]!.AsArray().Count);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "manifests", "manifest.schema.json")))!;
        Check(schema, manifest, "$");
    }

    [Fact]
    public async Task LabelledManifest_RecordsTheLabelFileColumnsAndExcludes_AndMatchesTheSchema()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Sub("imgs"));
        for (var i = 0; i < 4; i++)
        {
            File.WriteAllBytes(Path.Combine(tmp.Sub("imgs"), $"img{i}.png"), ImageFixtures.Solid(8, 8, (byte)(i * 60), 0, 0));
        }
        File.WriteAllLines(tmp.Sub("labels.csv"), ["image,cls", "img0,a", "img1,b", "img2,a", "img3,b"]);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls",
            "--exclude", "*mask*", "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Sub("out"), "manifest.json")))!;
        var input = manifest["input"]!;
        Assert.Equal(tmp.Sub("labels.csv"), input["labels"]!.GetValue<string>());
        Assert.Equal("image", input["id_column"]!.GetValue<string>());
        Assert.Equal("cls", input["label_column"]!.GetValue<string>());
        Assert.Equal(["*mask*"], input["exclude"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Null(input["exclude_duplicates"]);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "manifests", "manifest.schema.json")))!;
        Check(schema, manifest, "$");
    }

    private static void Check(JsonNode schema, JsonNode? value, string path)
    {
        if (schema["const"] is { } constant)
        {
            Assert.True(JsonNode.DeepEquals(constant, value), $"{path}: expected {constant}, got {value}");
        }
        if (schema["enum"] is JsonArray options)
        {
            Assert.True(options.Any(o => JsonNode.DeepEquals(o, value)), $"{path}: {value} not in {options.ToJsonString()}");
        }
        switch (schema["type"]?.GetValue<string>())
        {
            case "object":
                var obj = Assert.IsType<JsonObject>(value);
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    Assert.True(obj.ContainsKey(required!.GetValue<string>()), $"{path}: missing required '{required}'");
                }
                foreach (var (name, sub) in schema["properties"]?.AsObject() ?? [])
                {
                    if (obj.TryGetPropertyValue(name, out var child))
                    {
                        Check(sub!, child, $"{path}.{name}");
                    }
                }
                break;
            case "array":
                foreach (var item in Assert.IsType<JsonArray>(value))
                {
                    if (schema["items"] is { } items)
                    {
                        Check(items, item, path + "[]");
                    }
                }
                break;
            case "string":
                Assert.Equal(System.Text.Json.JsonValueKind.String, value!.GetValueKind());
                if (schema["pattern"] is { } pattern)
                {
                    Assert.Matches(pattern.GetValue<string>(), value.GetValue<string>());
                }
                break;
            case "integer":
                Assert.Equal(System.Text.Json.JsonValueKind.Number, value!.GetValueKind());
                Assert.True(decimal.Truncate(value.GetValue<decimal>()) == value.GetValue<decimal>(), path);
                break;
            case "boolean":
                Assert.Contains(value!.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
                break;
            case "number":
                Assert.Equal(System.Text.Json.JsonValueKind.Number, value!.GetValueKind());
                break;
            default:
                break;
        }
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ZetaPrep.sln")))
            {
                return d.FullName;
            }
        }
        throw new InvalidOperationException("repository root (ZetaPrep.sln) not found above " + AppContext.BaseDirectory);
    }
}
