using BenchmarkDotNet.Attributes;
using ZetaPrep.Imaging;
using ZetaPrep.Shards;

namespace ZetaPrep.Bench.Kernels;

/// <summary>Writing one Parquet shard of 64 rows (224² PNGs, 7-class soft labels, N = 8 sources) to a temporary folder.</summary>
[MemoryDiagnoser]
public class ShardBenchmarks
{
    private const int Rows = BenchInputs.Batch;
    private readonly ShardSchema _schema = new(["MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"], "{\"bench\":true}");
    private ShardRow[] _rows = [];
    private string _dir = "";
    private int _shard;

    [GlobalSetup]
    public void Setup()
    {
        var skia = new SkiaImageDecoder();
        var jpeg = BenchInputs.Jpeg(out _);
        var rgb = new byte[BenchInputs.Size * BenchInputs.Size * 3];
        skia.DecodeResized(jpeg, "bench", BenchInputs.Size, ResizeMode.Crop, rgb);
        var png = PngEncoder.Encode(rgb, BenchInputs.Size, BenchInputs.Size);
        var weights = new float[] { 0.87f, 0.06f, 0.02f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f };
        _rows = Enumerable.Range(0, Rows).Select(i => new ShardRow(
            png,
            $"{i:D6}.png",
            [0.87f, 0.13f, 0, 0, 0, 0, 0],
            i % 7,
            Enumerable.Range(0, 8).Select(k => $"ISIC_{(i * 8) + k:D7}").ToArray(),
            weights,
            2.8f,
            Method: "zeta")).ToArray();
        _dir = Directory.CreateTempSubdirectory("zetaprep-bench-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark]
    public async Task<long> ParquetShard64()
    {
        var path = Path.Combine(_dir, $"train-{_shard++:D5}-of-99999.parquet");
        await using var writer = await ParquetShardWriter.CreateAsync(path, _schema, CancellationToken.None);
        await writer.WriteRowGroupAsync(_rows, CancellationToken.None);
        var info = await writer.CompleteAsync(CancellationToken.None);
        File.Delete(path);
        return info.Bytes;
    }
}
