namespace ZetaPrep.Imaging;

/// <summary>Which decoder reads the input images (<c>--codec</c>).</summary>
public enum CodecChoice
{
    /// <summary>TurboJPEG when libturbojpeg.so.0 is installed, else Skia (the default).</summary>
    Auto,

    /// <summary>SkiaSharp's bundled, fuzzed codecs for every format.</summary>
    Skia,

    /// <summary>The system's SIMD libjpeg-turbo for JPEG pixels; Skia for everything else.</summary>
    TurboJpeg,

    /// <summary>SixLabors.ImageSharp 2.1.13 (managed; for trusted input).</summary>
    ImageSharp,
}
