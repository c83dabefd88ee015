using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ZetaPrep.Manifests;

/// <summary>SHA-256 over the sorted inputs' (id, size, SHA-256 of content): changes when any input is added, removed, renamed or edited.</summary>
public static class InputFingerprint
{
    /// <summary>Combines per-input content hashes (in listing order, which is sorted by id) into one hex digest.</summary>
    public static string Compute(IReadOnlyList<(string Id, long Size, byte[] ContentSha256)> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (id, size, content) in inputs)
        {
            // Lines of "id \0 size \0 hex(content) \n": ids cannot hold NUL, so the encoding is unambiguous.
            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}\0{size}\0{Convert.ToHexStringLower(content)}\n")));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
