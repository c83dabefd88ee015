using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// The bytes of small inputs as the validation pass read them, kept in one block for their batches, which then decode
/// them without a second open and read: a 28×28 PNG's read (open, read, close: ~5 µs, mostly the path walk) cost as much
/// as decoding it, and a first run read every input twice. Only files of at most <see cref="MaxFileBytes"/>, up to
/// <see cref="MaxTotalBytes"/> in all, chosen in listing order from the listing's sizes (so the same ones on every run);
/// larger inputs are read again, as before: their read is a small part of decoding them, and keeping them would make the
/// memory a run needs grow with the number of inputs up to the cap (50 KB photos: +28 MiB from 400 to 4000 inputs).
/// A batch then also decodes exactly the bytes the pass checked and fingerprinted, even if the file changed since.
/// </summary>
internal sealed class RetainedInputs
{
    /// <summary>The largest input kept: thumbnails (a 28×28 PNG ~0.4 KB, CIFAR's 32×32 ~2.5 KB, a 64×64 photo ~12 KB).</summary>
    public const int MaxFileBytes = 16 * 1024;

    /// <summary>The most bytes kept in all: 190,000 inputs of ~350 bytes, Fashion-MNIST's 70,000 with room to spare.</summary>
    public const int MaxTotalBytes = 64 * 1024 * 1024;

    private readonly byte[] _bytes;
    private readonly int[] _offset;  // where input i's bytes go in _bytes; -1: not kept
    private readonly int[] _length;  // the listing's size of input i (what was set aside)
    private readonly bool[] _filled; // written by the pass (the file still had its listed size)
    private readonly byte[]?[] _unkept; // the pass's SHA-256 of an input room was set aside for but not filled

    private RetainedInputs(byte[] bytes, int[] offset, int[] length, bool[] filled, byte[]?[] unkept)
    {
        (_bytes, _offset, _length, _filled, _unkept) = (bytes, offset, length, filled, unkept);
    }

    /// <summary>How many inputs' bytes are kept.</summary>
    public int Count => _filled.Count(f => f);

    /// <summary>Room for the small inputs of <paramref name="items"/> (by their listed sizes); null when none is small.</summary>
    public static RetainedInputs? Plan(IReadOnlyList<SourceItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var offset = new int[items.Count];
        var length = new int[items.Count];
        var total = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var size = items[i].Size;
            if (size > 0 && size <= MaxFileBytes && total + size <= MaxTotalBytes)
            {
                (offset[i], length[i]) = (total, (int)size);
                total += (int)size;
            }
            else
            {
                offset[i] = -1;
            }
        }
        return total == 0 ? null : new RetainedInputs(GC.AllocateUninitializedArray<byte>(total), offset, length, new bool[items.Count], new byte[]?[items.Count]);
    }

    /// <summary>Whether room was set aside for input <paramref name="index"/>'s bytes (they are kept if the file still has its listed size).</summary>
    public bool IsPlanned(int index) => _offset[index] >= 0;

    /// <summary>
    /// Keeps input <paramref name="index"/>'s bytes if room was set aside for them and they still have the listed size;
    /// where room was set aside but the size changed, keeps <paramref name="sha256"/> (what the pass fingerprinted)
    /// instead, for the batch that reads the file again to check (<see cref="UnkeptHash"/>).
    /// </summary>
    public void Keep(int index, ReadOnlySpan<byte> bytes, byte[] sha256)
    {
        if (_offset[index] < 0)
        {
            return;
        }
        if (bytes.Length == _length[index])
        {
            // Each input has its own range: the pass's threads never write the same bytes.
            bytes.CopyTo(_bytes.AsSpan(_offset[index], _length[index]));
            _filled[index] = true;
        }
        else
        {
            _unkept[index] = sha256;
        }
    }

    /// <summary>The pass's SHA-256 of input <paramref name="index"/> when room was set aside for it but not filled (it changed size since the listing); else null.</summary>
    public byte[]? UnkeptHash(int index) => _unkept[index];

    /// <summary>Input <paramref name="index"/>'s bytes as the pass read them, if they were kept.</summary>
    public bool TryGet(int index, out ReadOnlyMemory<byte> bytes)
    {
        bytes = _filled[index] ? _bytes.AsMemory(_offset[index], _length[index]) : default;
        return _filled[index];
    }

    /// <summary>The same bytes, indexed by position in <paramref name="kept"/> (the inputs left after skipping bad ones, as indices into the listing planned for).</summary>
    public RetainedInputs Select(IReadOnlyList<int> kept)
    {
        ArgumentNullException.ThrowIfNull(kept);
        return new RetainedInputs(_bytes, [.. kept.Select(i => _offset[i])], [.. kept.Select(i => _length[i])], [.. kept.Select(i => _filled[i])], [.. kept.Select(i => _unkept[i])]);
    }
}
