using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using ZetaPrep.Imaging;
using ZetaPrep.Sources;

namespace ZetaPrep.Bench.Kernels;

/// <summary>
/// The inflates of a first run over a download: one deflated zip entry (a 3008×2000 JPEG of ~1 MB, as in the bench's ISIC
/// zip) read through ZipArchiveEntry.Open and through <see cref="ZipImageArchive"/>'s direct read with DeflateStream and
/// with libdeflate; and the PNG check of a 768² photo PNG, its image data streamed through zlib-ng or inflated whole
/// by libdeflate. The libdeflate rows measure the zlib-ng path again where libdeflate0 is not installed.
/// </summary>
[MemoryDiagnoser]
public class InflateBenchmarks
{
    private const string Entry = "ISIC-2017_Training_Data/ISIC_0000000.jpg";
    private string _dir = "";
    private ZipArchive? _zip;
    private ZipImageArchive? _direct;
    private ZipImageArchive? _directZlib;
    private byte[] _entry = [];
    private byte[] _png = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("zetaprep-bench-zip-").FullName;
        var path = Path.Combine(_dir, "ISIC-2017_Training_Data.zip");
        var jpeg = BenchInputs.SyntheticJpeg(3008, 2000);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var stream = zip.CreateEntry(Entry, CompressionLevel.Fastest).Open();
            stream.Write(jpeg);
        }
        _entry = new byte[jpeg.Length];
        _zip = ZipFile.OpenRead(path);
        _direct = new ZipImageArchive(path);
        _directZlib = new ZipImageArchive(path, useLibdeflate: false);

        // zlib level 6, as most PNG writers save a photo.
        var rgb = new byte[768 * 768 * 3];
        new SkiaImageDecoder().DecodeResized(BenchInputs.Jpeg(out _), "bench", 768, ResizeMode.Crop, rgb);
        _png = PngEncoder.Encode(rgb, 768, 768, 6);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _zip?.Dispose();
        _direct?.Dispose();
        _directZlib?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public int ZipEntryOpen()
    {
        using var stream = _zip!.GetEntry(Entry)!.Open();
        stream.ReadExactly(_entry);
        return _entry[^1];
    }

    [Benchmark]
    public int ZipDirectDeflateStream()
    {
        using var bytes = _directZlib!.ReadPooled(Entry, _entry.Length, CancellationToken.None);
        return bytes.Span[^1];
    }

    [Benchmark]
    public int ZipDirectLibdeflate()
    {
        using var bytes = _direct!.ReadPooled(Entry, _entry.Length, CancellationToken.None);
        return bytes.Span[^1];
    }

    [Benchmark]
    public bool PngCheckStreamed() => ImageIntegrity.Check(_png, "bench.png", wholeInflate: false);

    [Benchmark]
    public bool PngCheckLibdeflate() => ImageIntegrity.Check(_png, "bench.png", wholeInflate: true);
}
