using ZetaPrep.Shards;

namespace ZetaPrep.Tests.Shards;

/// <summary>Deterministic rows, schema and a scratch directory for shard tests.</summary>
internal static class ShardFixtures
{
    public static readonly string[] ClassNames = ["melanoma", "nevus", "seborrheic keratosis", "naevus « ünïcode »"];

    public static ShardSchema Schema { get; } = new(ClassNames, """{"seed":42,"gamma":2.8,"n":4,"note":"it's"}""");

    /// <summary>Rows with incompressible "PNG" bytes; every 7th row has no sources, to cover empty lists.</summary>
    private static readonly string[] Methods = ["zeta", "mixup", "cutmix", "cutmix+zeta", "none"];

    public static List<ShardRow> Rows(int count, int imageBytes = 2048, int seed = 1)
    {
        var random = new Random(seed);
        var rows = new List<ShardRow>(count);
        for (int i = 0; i < count; i++)
        {
            var image = new byte[imageBytes + random.Next(0, 64)];
            random.NextBytes(image);
            var label = new float[ClassNames.Length];
            for (int k = 0; k < label.Length; k++)
            {
                label[k] = random.NextSingle();
            }

            int n = i % 7 == 6 ? 0 : 1 + random.Next(4);
            string[] sources = [.. Enumerable.Range(0, n).Select(j => $"ISIC_{random.Next(10_000_000):D7}")];
            float[] weights = [.. Enumerable.Range(0, n).Select(_ => random.NextSingle())];
            rows.Add(new ShardRow(image, $"{i:D6}.png", label, random.Next(ClassNames.Length), sources, weights, 1.72865f + i, i % 3 == 0,
                // Nullable method/lam: some rows without either, so nulls round-trip too.
                i % 4 == 3 ? null : Methods[i % Methods.Length], i % 5 == 4 ? null : random.NextSingle()));
        }

        return rows;
    }

    public static async Task<ShardFileInfo> WriteAsync(string path, IReadOnlyList<ShardRow> rows, int groupSize = 100)
    {
        await using ParquetShardWriter writer = await ParquetShardWriter.CreateAsync(path, Schema, CancellationToken.None);
        foreach (ShardRow[] group in rows.Chunk(groupSize))
        {
            await writer.WriteRowGroupAsync(group, CancellationToken.None);
        }

        return await writer.CompleteAsync(CancellationToken.None);
    }

    public static async Task<List<ShardRow>> ReadAllAsync(string path)
    {
        var rows = new List<ShardRow>();
        await foreach (ShardRow row in ParquetShardReader.ReadRowsAsync(path, CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }

    public static void AssertEqual(ShardRow expected, ShardRow actual)
    {
        Assert.Equal(expected.ImageBytes.ToArray(), actual.ImageBytes.ToArray());
        Assert.Equal(expected.ImagePath, actual.ImagePath);
        Assert.Equal(expected.Label, actual.Label);
        Assert.Equal(expected.Dominant, actual.Dominant);
        Assert.Equal(expected.Sources, actual.Sources);
        Assert.Equal(expected.Weights, actual.Weights);
        Assert.Equal(expected.Gamma, actual.Gamma);
        Assert.Equal(expected.Original, actual.Original);
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Lam, actual.Lam);
    }
}
