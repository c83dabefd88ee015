using System.Buffers.Binary;
using ZetaPrep.Planning;

namespace ZetaPrep.Cli.Tests;

/// <summary>Hostile and damaged downloads: zip bombs, encrypted entries and seeded byte mutations of an official-layout zip.</summary>
public sealed class ZipHazardTests
{
    private const string ImagesZip = "ISBI2016_ISIC_Part3_Training_Data.zip";

    private static Task<CliRunner.Result> Generate(string input, string output) =>
        CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--batch-size", "4", "--size", "8", "--quiet");

    /// <summary>Offsets of every central-directory header (signature PK\1\2) in a zip.</summary>
    private static List<int> CentralHeaders(byte[] zip)
    {
        var offsets = new List<int>();
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i)) == 0x02014b50)
            {
                offsets.Add(i);
            }
        }
        return offsets;
    }

    /// <summary>The central header of the first JPEG entry (skipping folders and CSVs).</summary>
    private static int FirstImageHeader(byte[] zip) => CentralHeaders(zip).First(h =>
    {
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(h + 28));
        return System.Text.Encoding.UTF8.GetString(zip, h + 46, nameLength).EndsWith(".jpg", StringComparison.OrdinalIgnoreCase);
    });

    /// <summary>An ISIC 2016 download whose first image entry's central and local headers <paramref name="patch"/> edits.</summary>
    private static string PatchedIsic2016(TempDir tmp, Action<byte[], int, int> patch)
    {
        var dir = tmp.Sub("isic2016");
        IsicFixtures.Write2016(dir);
        var path = Path.Combine(dir, ImagesZip);
        var zip = File.ReadAllBytes(path);
        var central = FirstImageHeader(zip);
        patch(zip, central, (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(central + 42)));
        File.WriteAllBytes(path, zip);
        return dir;
    }

    [Fact]
    public async Task EntryClaimingHugeUncompressedSize_IsRefusedWithoutInflating()
    {
        using var tmp = new TempDir();
        var dir = PatchedIsic2016(tmp, (zip, central, local) =>
        {
            // 3 GB declared, as a zip bomb would; the compressed bytes stay tiny.
            BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), 3_000_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(local + 22), 3_000_000_000);
        });
        var r = await Generate(dir, tmp.Sub("out"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains(ImagesZip, r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task EncryptedEntry_IsRefusedClearly()
    {
        using var tmp = new TempDir();
        var dir = PatchedIsic2016(tmp, (zip, central, local) =>
        {
            zip[central + 8] |= 1; // general-purpose bit 0: encrypted
            zip[local + 6] |= 1;
        });
        var r = await Generate(dir, tmp.Sub("out"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("encrypt", r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task MutatedZips_EndInOutputOrOneLineError_NeverACrash()
    {
        using var tmp = new TempDir();
        var pristine = tmp.Sub("pristine");
        IsicFixtures.Write2016(pristine);
        var original = File.ReadAllBytes(Path.Combine(pristine, ImagesZip));
        var rng = new DeterministicRandom(0x21F);
        var outcomes = new int[2];
        for (var i = 0; i < 40; i++)
        {
            var dir = tmp.Sub($"case{i}");
            Directory.CreateDirectory(dir);
            foreach (var f in Directory.GetFiles(pristine))
            {
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            }
            var bytes = (byte[])original.Clone();
            if (rng.NextInt(3) == 0)
            {
                bytes = bytes[..rng.NextInt(bytes.Length)];
            }
            else
            {
                for (var k = 1 + rng.NextInt(6); k > 0; k--)
                {
                    bytes[rng.NextInt(bytes.Length)] ^= (byte)(1 << rng.NextInt(8));
                }
            }
            File.WriteAllBytes(Path.Combine(dir, ImagesZip), bytes);
            // An unhandled exception would escape CliRunner and fail the test: every outcome must be handled.
            var r = await Generate(dir, Path.Combine(dir, "out")).WaitAsync(TimeSpan.FromSeconds(60));
            if (r.ExitCode == 0)
            {
                outcomes[0]++;
            }
            else
            {
                Assert.Single(r.Stderr.TrimEnd().Split('\n'));
                Assert.StartsWith("zetaprep: error: ", r.Stderr, StringComparison.Ordinal);
                outcomes[1]++;
            }
        }
        Assert.True(outcomes[1] > 0, "no mutation was rejected: the mutator tests nothing");
    }
}
