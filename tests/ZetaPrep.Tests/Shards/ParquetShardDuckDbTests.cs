using System.Text.Json;
using ZetaPrep.Shards;

namespace ZetaPrep.Tests.Shards;

/// <summary>Our shards as an independent reader (DuckDB) sees them: HuggingFace's schema rules (FACTS.md §3) and every value.</summary>
public sealed class ParquetShardDuckDbTests
{
    [Fact]
    public async Task Schema_HasTheExactTypes_AndEveryColumnIsNullable()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "shard.parquet");
        await ShardFixtures.WriteAsync(path, ShardFixtures.Rows(3));

        var columns = DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(path)})", r => (Name: r.GetString(0), Type: r.GetString(1), Null: r.GetString(2)));
        Assert.Equal(
            [
                ("image", "STRUCT(bytes BLOB, path VARCHAR)", "YES"),
                ("label", "FLOAT[]", "YES"),
                ("dominant", "BIGINT", "YES"),
                ("sources", "VARCHAR[]", "YES"),
                ("weights", "FLOAT[]", "YES"),
                ("gamma", "FLOAT", "YES"),
                ("original", "BOOLEAN", "YES"),
                ("method", "VARCHAR", "YES"),
                ("lam", "FLOAT", "YES"),
            ],
            columns);

        // Every node OPTIONAL except the root and the REPEATED 'list' group that the LIST layout requires.
        var nodes = DuckDb.Query($"SELECT name, repetition_type FROM parquet_schema({DuckDb.Literal(path)})", r => (Name: r.GetString(0), Repetition: r.IsDBNull(1) ? null : r.GetString(1)));
        Assert.Equal(
            ["root", "image", "bytes", "path", "label", "list", "element", "dominant", "sources", "list", "element", "weights", "list", "element", "gamma", "original", "method", "lam"],
            nodes.Select(n => n.Name));
        Assert.All(nodes.Skip(1), n => Assert.Equal(n.Name == "list" ? "REPEATED" : "OPTIONAL", n.Repetition));
    }

    [Fact]
    public async Task HuggingFaceMetadata_DeclaresTheFeatures()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "shard.parquet");
        await ShardFixtures.WriteAsync(path, ShardFixtures.Rows(3));

        Dictionary<string, string> metadata = DuckDb.KeyValueMetadata(path);

        Assert.Equal(ShardFixtures.Schema.GenerationJson, metadata["zetaprep"]);
        using var json = JsonDocument.Parse(metadata["huggingface"]);
        JsonElement features = json.RootElement.GetProperty("info").GetProperty("features");
        Assert.Equal(["image", "label", "dominant", "sources", "weights", "gamma", "original", "method", "lam"], features.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Image", features.GetProperty("image").GetProperty("_type").GetString());
        Assert.Equal("ClassLabel", features.GetProperty("dominant").GetProperty("_type").GetString());
        Assert.Equal(ShardFixtures.ClassNames, features.GetProperty("dominant").GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        foreach ((string name, string dtype) in new[] { ("label", "float32"), ("sources", "string"), ("weights", "float32") })
        {
            JsonElement sequence = features.GetProperty(name);
            Assert.Equal("Sequence", sequence.GetProperty("_type").GetString());
            Assert.Equal("Value", sequence.GetProperty("feature").GetProperty("_type").GetString());
            Assert.Equal(dtype, sequence.GetProperty("feature").GetProperty("dtype").GetString());
        }

        Assert.Equal("Value", features.GetProperty("gamma").GetProperty("_type").GetString());
        Assert.Equal("float32", features.GetProperty("gamma").GetProperty("dtype").GetString());
        Assert.Equal("Value", features.GetProperty("original").GetProperty("_type").GetString());
        Assert.Equal("bool", features.GetProperty("original").GetProperty("dtype").GetString());
        Assert.Equal("string", features.GetProperty("method").GetProperty("dtype").GetString());
        Assert.Equal("float32", features.GetProperty("lam").GetProperty("dtype").GetString());
    }

    [Fact]
    public async Task Values_ReadBackEqual_AcrossRowGroups()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "shard.parquet");
        List<ShardRow> rows = ShardFixtures.Rows(230);
        await ShardFixtures.WriteAsync(path, rows);

        Assert.Equal(230, DuckDb.Scalar<long>($"SELECT count(*) FROM read_parquet({DuckDb.Literal(path)})"));
        Assert.Equal(3, DuckDb.Scalar<long>($"SELECT num_row_groups FROM parquet_file_metadata({DuckDb.Literal(path)})"));
        List<ShardRow> read = DuckDb.Query(
            $"SELECT image.bytes, image.path, label, dominant, sources, weights, gamma, original, method, lam FROM read_parquet({DuckDb.Literal(path)}, file_row_number = true) ORDER BY file_row_number",
            r => new ShardRow(
                DuckDb.Blob(r, 0),
                r.GetString(1),
                [.. r.GetFieldValue<List<float?>>(2).Select(v => v!.Value)],
                r.GetInt64(3),
                [.. r.GetFieldValue<List<string>>(4)],
                [.. r.GetFieldValue<List<float?>>(5).Select(v => v!.Value)],
                r.GetFloat(6),
                r.GetBoolean(7),
                r.IsDBNull(8) ? null : r.GetString(8),
                r.IsDBNull(9) ? null : r.GetFloat(9)));

        Assert.Equal(rows.Count, read.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            ShardFixtures.AssertEqual(rows[i], read[i]);
        }
    }
}
