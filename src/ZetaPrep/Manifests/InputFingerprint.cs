using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ZetaPrep.Manifests;

/// <summary>
/// SHA-256 over the class names and the sorted inputs' (id, size, SHA-256 of content, label): changes when any input is
/// added, removed, renamed or edited, or relabelled — a resume or a merge must not join shards made under two labellings.
/// </summary>
public static class InputFingerprint
{
    /// <summary>Combines per-input content hashes and labels (in listing order, which is sorted by id) into one hex digest.</summary>
    /// <param name="inputs">Each input's id, size and content SHA-256.</param>
    /// <param name="classes">The class names, in class-index order.</param>
    /// <param name="writeLabel">Writes input i's label vector (one value per class) into the span it is given.</param>
    public static string Compute(IReadOnlyList<(string Id, long Size, byte[] ContentSha256)> inputs, IReadOnlyList<string> classes, Action<int, double[]> writeLabel)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(writeLabel);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // "classes \0 name \0 name … \n", then lines of "id \0 size \0 hex(content) \0 label \n" (label: the values,
        // comma-separated, shortest round-trip): ids and class names cannot hold NUL, so the encoding is unambiguous.
        hash.AppendData(Encoding.UTF8.GetBytes("classes\0" + string.Join('\0', classes) + "\n"));
        var label = new double[classes.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var (id, size, content) = inputs[i];
            Array.Clear(label);
            writeLabel(i, label);
            var values = string.Join(',', label.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}\0{size}\0{Convert.ToHexStringLower(content)}\0{values}\n")));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
