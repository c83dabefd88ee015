using System.Text;
using ZetaPrep.Mixing;

namespace ZetaPrep.Tests.Mixing;

public sealed class ElfVersionWeakenerTests
{
    private static readonly Lazy<byte[]> Shim = new(() => File.ReadAllBytes(FindShim()));

    [Fact]
    public void Weakening_the_shipped_shim_changes_exactly_one_byte()
    {
        var original = Shim.Value;
        var patched = ElfVersionWeakener.Weaken(original);

        Assert.Equal(original.Length, patched.Length);
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        var at = Assert.Single(differing);
        Assert.Equal(ElfVersionWeakener.FindFlagsOffset(original), at);
        Assert.Equal(original[at] | 0x2, patched[at]);
    }

    [Fact]
    public void Weakening_is_idempotent()
    {
        var once = ElfVersionWeakener.Weaken(Shim.Value);
        Assert.Equal(once, ElfVersionWeakener.Weaken(once));
    }

    [Fact]
    public void Refuses_when_another_symbol_uses_the_version()
    {
        // Renaming the one allowed symbol makes "some other symbol" the user of GLIBCXX_3.4.32.
        var crafted = Replace(Shim.Value, ElfVersionWeakener.ShimOnlySymbol, "_ZSt21ios_base_library_initX");

        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken(crafted));
        Assert.Contains("_ZSt21ios_base_library_initX", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_when_the_version_is_not_needed()
    {
        var crafted = Replace(Shim.Value, ElfVersionWeakener.ShimVersion, "GLIBCXX_3.4.39");

        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken(crafted));
        Assert.Contains(ElfVersionWeakener.ShimVersion, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_non_elf_input()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken(Encoding.ASCII.GetBytes("MZ this is not an ELF shared library at all, just text padding it out")));
        Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken([]));
    }

    [Fact]
    public void Refuses_truncated_elf_without_crashing()
    {
        foreach (var length in new[] { 64, 4096, Shim.Value.Length / 2 })
        {
            Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken(Shim.Value.AsSpan(0, length)));
        }
    }

    private static byte[] Replace(byte[] source, string from, string to)
    {
        Assert.Equal(from.Length, to.Length);
        var bytes = (byte[])source.Clone();
        var needle = Encoding.ASCII.GetBytes(from + "\0");
        var replacement = Encoding.ASCII.GetBytes(to + "\0");
        var replaced = 0;
        for (var at = bytes.AsSpan().IndexOf(needle); at >= 0;)
        {
            replacement.CopyTo(bytes, at);
            replaced++;
            var next = bytes.AsSpan(at + needle.Length).IndexOf(needle);
            at = next < 0 ? -1 : at + needle.Length + next;
        }

        Assert.True(replaced > 0, $"{from} not found in the shim");
        return bytes;
    }

    private static string FindShim()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so"),
            Path.Combine(home, ".nuget", "packages", "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
        };
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("libLibTorchSharp.so not found", candidates[0]);
    }
}
