using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

/// <summary>Whether the TurboJPEG tests can run here: libturbojpeg0 is optional, except where CI demands it.</summary>
internal static class TurboJpeg
{
    /// <summary>Set to 1 (as .ci/run does) to make a missing libturbojpeg.so.0 a test failure instead of an early return.</summary>
    public const string RequireVariable = "ZETAPREP_REQUIRE_TURBOJPEG";

    /// <summary>True when TurboJPEG loads; false (the caller returns early) when it does not and it is not required.</summary>
    public static bool Available()
    {
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.True(TurboJpegDecoder.IsAvailable, $"{RequireVariable}=1 but {TurboJpegDecoder.UnavailableMessage}");
        }
        return TurboJpegDecoder.IsAvailable;
    }
}
