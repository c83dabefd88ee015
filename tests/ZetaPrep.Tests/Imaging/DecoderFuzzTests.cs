using ZetaPrep.Imaging;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// Seeded, bounded fuzzing of the untrusted-input path (integrity check, header, decode): every mutated file must end
/// as a decoded image or a one-line <see cref="ZetaPrepException"/> — never a crash, another exception type or a hang.
/// </summary>
public sealed class DecoderFuzzTests
{
    public static TheoryData<string, string> Seeds()
    {
        var data = new TheoryData<string, string>();
        foreach (var decoder in ResampleQuality.Decoders)
        {
            foreach (var kind in new[] { "png", "jpeg", "progressive", "cmyk", "png16" })
            {
                data.Add(decoder, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Mutated_files_decode_or_fail_cleanly(string decoderName, string kind)
    {
        var original = kind switch
        {
            "png" => ImageFixtures.Png(33, 21, (x, y) => ((byte)(x * 7), (byte)(y * 11), (byte)(x ^ y), (byte)(255 - x))),
            "jpeg" => ImageFixtures.Jpeg(48, 40, (x, y) => ((byte)(x * 5), (byte)(y * 6), (byte)((x * y) & 255)), quality: 85),
            "progressive" => OddJpegs.Progressive,
            "cmyk" => OddJpegs.Cmyk,
            _ => ImageFixtures.HandPng(9, 7, 16, 2, Enumerable.Range(0, 7 * (1 + 9 * 6)).Select(i => (byte)(i * 31)).ToArray()),
        };
        var decoder = decoderName switch
        {
            "skia" => new SkiaImageDecoder(new ImageLimits(4_000_000)),
            "imagesharp" => new ImageSharpDecoder(new ImageLimits(4_000_000)),
            "turbojpeg" => TurboJpeg.Available() ? new TurboJpegDecoder(new ImageLimits(4_000_000)) : null,
            _ => ResampleQuality.Create(decoderName),
        };
        if (decoder is null)
        {
            return;
        }

        var rng = new DeterministicRandom(0xF022, (ulong)kind.Length);
        var outcomes = new int[2];
        for (var i = 0; i < 150; i++)
        {
            var mutated = Mutate(original, rng);
            var work = Task.Run(() =>
            {
                try
                {
                    ImageIntegrity.Check(mutated, "fuzz");
                    decoder.ReadHeader(mutated, "fuzz");
                    var rgb = new byte[16 * 16 * 3];
                    decoder.DecodeResized(mutated, "fuzz", 16, ResizeMode.Crop, rgb);
                    return 0;
                }
                catch (ZetaPrepException e)
                {
                    Assert.StartsWith("fuzz: ", e.Message, StringComparison.Ordinal);
                    Assert.DoesNotContain('\n', e.Message);
                    return 1;
                }
            });
            // A hang is a failure: no single file may take seconds.
            outcomes[await work.WaitAsync(TimeSpan.FromSeconds(10))]++;
        }
        Assert.Equal(150, outcomes.Sum());
        Assert.True(outcomes[1] > 0, "no mutation was rejected: the mutator is too gentle to test anything");
    }

    private static byte[] Mutate(byte[] original, DeterministicRandom rng)
    {
        var bytes = (byte[])original.Clone();
        switch (rng.NextInt(5))
        {
            case 0: // flip bits
                for (var k = 1 + rng.NextInt(8); k > 0; k--)
                {
                    bytes[rng.NextInt(bytes.Length)] ^= (byte)(1 << rng.NextInt(8));
                }
                return bytes;
            case 1: // truncate
                return bytes[..rng.NextInt(bytes.Length)];
            case 2: // overwrite a run with one value (0x00, 0xFF or random)
                var start = rng.NextInt(bytes.Length);
                var value = (byte)(rng.NextInt(3) switch { 0 => 0x00, 1 => 0xFF, _ => rng.NextInt(256) });
                bytes.AsSpan(start, Math.Min(bytes.Length - start, 1 + rng.NextInt(64))).Fill(value);
                return bytes;
            case 3: // insert random bytes
                var at = rng.NextInt(bytes.Length);
                var insert = Enumerable.Range(0, 1 + rng.NextInt(32)).Select(_ => (byte)rng.NextInt(256)).ToArray();
                return [.. bytes[..at], .. insert, .. bytes[at..]];
            default: // huge dimensions in the header area
                var p = 16 + rng.NextInt(Math.Min(32, bytes.Length - 20));
                bytes[p] = 0x7F;
                bytes[p + 1] = 0xFF;
                return bytes;
        }
    }
}
