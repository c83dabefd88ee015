using System.Reflection;
using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>The one place that turns <c>--codec</c> into a decoder, and names the codec actually used.</summary>
public static class ImageCodecs
{
    /// <summary>The values <c>--codec</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "skia", "turbojpeg", "imagesharp"];

    /// <summary>Parses a <c>--codec</c> value; anything else is a usage error naming the option.</summary>
    public static CodecChoice Parse(string text) => text switch
    {
        "auto" => CodecChoice.Auto,
        "skia" => CodecChoice.Skia,
        "turbojpeg" => CodecChoice.TurboJpeg,
        "imagesharp" => CodecChoice.ImageSharp,
        _ => throw ZetaPrepException.Usage($"--codec: unknown codec '{text}'; choose {string.Join(", ", Names)}."),
    };

    /// <summary>The codec <paramref name="choice"/> means here: Auto becomes TurboJpeg when libturbojpeg is installed, else Skia.</summary>
    /// <exception cref="ZetaPrepException">The codec asked for cannot be used here (libturbojpeg.so.0 missing).</exception>
    public static CodecChoice Resolve(CodecChoice choice) => choice switch
    {
        CodecChoice.Auto => TurboJpegDecoder.IsAvailable ? CodecChoice.TurboJpeg : CodecChoice.Skia,
        CodecChoice.TurboJpeg when !TurboJpegDecoder.IsAvailable => throw new ZetaPrepException(TurboJpegDecoder.UnavailableMessage),
        CodecChoice.Skia or CodecChoice.TurboJpeg or CodecChoice.ImageSharp => choice,
        _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, "unknown codec"),
    };

    /// <summary>The lower-case name recorded in manifests and accepted by <c>--codec</c>: "skia", "turbojpeg", "imagesharp" (or "auto").</summary>
    public static string Name(CodecChoice choice) => Names[(int)choice];

    /// <summary>Creates the decoder for the resolved <paramref name="choice"/>; <see cref="Name"/> of <see cref="Resolve"/> says which.</summary>
    public static IImageDecoder Create(CodecChoice choice, ImageLimits limits) => Resolve(choice) switch
    {
        CodecChoice.TurboJpeg => new TurboJpegDecoder(limits),
        CodecChoice.ImageSharp => new ImageSharpDecoder(limits),
        _ => new SkiaImageDecoder(limits),
    };

    /// <summary>Whether the codec can be used in this process (Auto always can).</summary>
    public static bool IsAvailable(CodecChoice choice) => choice switch
    {
        CodecChoice.TurboJpeg => TurboJpegDecoder.IsAvailable,
        _ => true,
    };

    /// <summary>One line per codec for <c>zetaprep info</c>: available or not, and why.</summary>
    public static IReadOnlyList<string> Describe() =>
    [
        $"codec skia: available (SkiaSharp {Version(typeof(SKCodec).Assembly)})",
        TurboJpegDecoder.IsAvailable
            ? $"codec turbojpeg: available ({TurboJpegDecoder.Library})"
            : $"codec turbojpeg: not available ({TurboJpegDecoder.Library} not found; apt-get install libturbojpeg0)",
        $"codec imagesharp: available (SixLabors.ImageSharp {Version(typeof(SixLabors.ImageSharp.Image).Assembly)}, managed; trusted input only)",
        $"codec auto: {Name(Resolve(CodecChoice.Auto))}",
    ];

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "?";
}
