using BenchmarkDotNet.Attributes;
using ZetaPrep.Imaging;

namespace ZetaPrep.Bench.Kernels;

/// <summary>One 1024×768 JPEG → 224² centre crop through each decoder, and one 224² PNG encode.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private const int Pixels = BenchInputs.Size * BenchInputs.Size * 3;
    private readonly byte[] _rgb = new byte[Pixels];
    private readonly SkiaImageDecoder _skia = new();
    private readonly ImageSharpDecoder _imageSharp = new();

    // Falls back to Skia's path for every file when libturbojpeg0 is not installed (the row then matches SkiaDecodeResize).
    private readonly IImageDecoder _turbo = ImageCodecs.Create(TurboJpegDecoder.IsAvailable ? CodecChoice.TurboJpeg : CodecChoice.Skia, new ImageLimits());
    private byte[] _jpeg = [];
    private byte[] _mixed = [];

    [GlobalSetup]
    public void Setup()
    {
        _jpeg = BenchInputs.Jpeg(out var origin);
        Console.WriteLine($"// decode input: {origin} ({_jpeg.Length:N0} bytes)");
        // A mixed output looks like a photo, not like noise: encode a decoded image.
        _mixed = new byte[Pixels];
        _skia.DecodeResized(_jpeg, "bench", BenchInputs.Size, ResizeMode.Crop, _mixed);
    }

    [Benchmark]
    public void SkiaDecodeResize() => _skia.DecodeResized(_jpeg, "bench", BenchInputs.Size, ResizeMode.Crop, _rgb);

    [Benchmark]
    public void TurboJpegDecodeResize() => _turbo.DecodeResized(_jpeg, "bench", BenchInputs.Size, ResizeMode.Crop, _rgb);

    [Benchmark]
    public void ImageSharpDecodeResize() => _imageSharp.DecodeResized(_jpeg, "bench", BenchInputs.Size, ResizeMode.Crop, _rgb);

    /// <summary>ZetaPrep's own PNG writer (zlib level 1, Huffman only, Up filter).</summary>
    [Benchmark]
    public int PngEncode224() => PngEncoder.Encode(_mixed, BenchInputs.Size, BenchInputs.Size).Length;

    /// <summary>--png-level 6 (zlib's default match search), for comparison with the default Huffman-only writer.</summary>
    [Benchmark]
    public int PngEncode224Level6() => PngEncoder.Encode(_mixed, BenchInputs.Size, BenchInputs.Size, 6).Length;
}
