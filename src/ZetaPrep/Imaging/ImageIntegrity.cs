using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using ZetaPrep.Sources;

namespace ZetaPrep.Imaging;

/// <summary>
/// Structural checks of encoded PNG and JPEG files, cheap enough to run on every input before planning: PNG chunk
/// CRCs, IHDR/IDAT/IEND order and a full inflate of the image data; JPEG marker walk through every scan to EOI, with
/// each scan's data at least the fewest bits its blocks can be coded in and every component coded, then (where
/// TurboJPEG loads) an entropy decode at 1/8 scale that refuses scan data libjpeg finds missing or corrupt.
/// They catch truncation and corruption before any shard is written, so a bad file stops (or is skipped from) the
/// plan rather than failing half-way through a run.
/// </summary>
public static class ImageIntegrity
{
    /// <summary>The 8 bytes every PNG file starts with (for every reader and writer here).</summary>
    internal static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Whether the bytes start as a JPEG does: SOI and the next marker's 0xFF.</summary>
    internal static bool IsJpeg(ReadOnlySpan<byte> encoded) => encoded.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]);

    /// <summary>
    /// Whether <see cref="Check(ReadOnlySpan{byte}, string)"/> checks this file's structure (PNG and JPEG); other formats
    /// (GIF, WebP, BMP) are proved only by decoding them.
    /// </summary>
    public static bool ChecksStructureOf(ReadOnlySpan<byte> encoded) => encoded.StartsWith(PngSignature) || IsJpeg(encoded);

    /// <summary>Throws a one-line <see cref="ZetaPrepException"/> naming <paramref name="name"/> when the file is damaged.</summary>
    public static void Check(ReadOnlySpan<byte> encoded, string name) => Check(encoded, name, wholeInflate: true);

    /// <summary>
    /// As <see cref="Check(ReadOnlySpan{byte}, string)"/>; <paramref name="decodeJpegScans"/> false leaves out the
    /// entropy decode of a JPEG's scans (~1–1.4 ms per 1024×768 photo, ~40 % of decoding it), for a caller whose own
    /// decode of the file refuses lost scan data (<see cref="IImageDecoder.DetectsJpegDataLoss"/>).
    /// </summary>
    public static void Check(ReadOnlySpan<byte> encoded, string name, bool decodeJpegScans) => Check(encoded, name, wholeInflate: true, decodeJpegScans);

    /// <param name="encoded">The file's bytes.</param>
    /// <param name="name">The name messages give.</param>
    /// <param name="wholeInflate">Let libdeflate (when it loads) inflate a PNG's image data in one call; false: always the
    /// streaming inflate (for tests: the two must agree).</param>
    /// <returns>True when libdeflate inflated a PNG's image data whole (for tests).</returns>
    /// <param name="decodeJpegScans">Decode a JPEG's scan data (where TurboJPEG loads) to find data libjpeg reports lost.</param>
    internal static bool Check(ReadOnlySpan<byte> encoded, string name, bool wholeInflate, bool decodeJpegScans = true)
    {
        if (encoded.StartsWith(PngSignature))
        {
            return CheckPng(encoded, name, wholeInflate);
        }
        if (IsJpeg(encoded))
        {
            CheckJpeg(encoded, name, decodeJpegScans);
        }
        // Other formats (GIF, WebP, BMP) are left to the decoder.
        return false;
    }

    private static bool CheckPng(ReadOnlySpan<byte> png, string name, bool wholeInflate)
    {
        var pos = PngSignature.Length;
        var sawHeader = false;
        var sawEnd = false;
        long idatBytes = 0;
        long rawBytes = -1;
        var chunks = 0;
        while (pos < png.Length)
        {
            if (png.Length - pos < 12)
            {
                throw Bad(name, $"truncated PNG (chunk header cut at byte {pos})");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var type = png.Slice(pos + 4, 4);
            if (length > int.MaxValue || png.Length - pos - 12 < (long)length)
            {
                throw Bad(name, $"truncated PNG ({TypeName(type)} chunk at byte {pos} claims {length} bytes, file ends first)");
            }
            var body = png.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (Crc32.HashToUInt32(png.Slice(pos + 4, 4 + (int)length)) != crc)
            {
                throw Bad(name, $"corrupt PNG ({TypeName(type)} chunk at byte {pos} fails its CRC)");
            }
            if (chunks == 0 && !type.SequenceEqual("IHDR"u8))
            {
                throw Bad(name, "corrupt PNG (first chunk is not IHDR)");
            }
            if (type.SequenceEqual("IHDR"u8))
            {
                sawHeader = true;
                rawBytes = RawImageBytes(body);
            }
            if (type.SequenceEqual("IDAT"u8))
            {
                idatBytes += length;
            }
            chunks++;
            pos += 12 + (int)length;
            if (type.SequenceEqual("IEND"u8))
            {
                sawEnd = true;
                break;
            }
        }
        if (!sawHeader || !sawEnd)
        {
            throw Bad(name, "truncated PNG (no IEND chunk)");
        }
        if (idatBytes == 0)
        {
            throw Bad(name, "corrupt PNG (no image data)");
        }
        return InflateIdat(png, name, rawBytes, idatBytes, wholeInflate);
    }

    /// <summary>
    /// How many bytes the image data must inflate to, from the IHDR chunk: each scanline's filter byte and packed
    /// pixels, over the seven Adam7 passes when interlaced; -1 when the header is malformed (the decoder names that).
    /// </summary>
    private static long RawImageBytes(ReadOnlySpan<byte> ihdr)
    {
        if (ihdr.Length != 13)
        {
            return -1;
        }
        long width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        long height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int depth = ihdr[8];
        int channels = ihdr[9] switch
        {
            0 or 3 => 1, // grey, palette
            2 => 3,
            4 => 2, // grey + alpha
            6 => 4,
            _ => 0,
        };
        if (channels == 0 || depth is not (1 or 2 or 4 or 8 or 16) || width == 0 || height == 0 || ihdr[12] > 1)
        {
            return -1;
        }
        if (width > int.MaxValue || height > int.MaxValue)
        {
            return -1; // over the PNG limit of 2^31 - 1
        }
        long bitsPerPixel = channels * depth;
        // Rows of up to 2^34 bytes, up to 2^31 of them: past long.MaxValue / 8 (more than any stream holds) the count
        // stops there, so seven passes still add up without overflow.
        const long Cap = long.MaxValue / 8;
        long Pass(long w, long h)
        {
            var row = 1 + (((w * bitsPerPixel) + 7) / 8);
            return w == 0 || h == 0 ? 0 : h > Cap / row ? Cap : h * row;
        }
        if (ihdr[12] == 0)
        {
            return Pass(width, height);
        }
        // Adam7: (x start, y start, x step, y step) of each pass.
        ReadOnlySpan<byte> adam7 = [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];
        long total = 0;
        for (int p = 0; p < 28; p += 4)
        {
            total += Pass((width - adam7[p] + adam7[p + 2] - 1) / adam7[p + 2], (height - adam7[p + 1] + adam7[p + 3] - 1) / adam7[p + 3]);
        }
        return total;
    }

    /// <summary>
    /// Inflates the concatenated IDAT data to its end: a damaged deflate stream fails here, not in a decoder mid-run. The
    /// chunks are read in place (<see cref="IdatStream"/>); copying them into a MemoryStream first allocated about
    /// 2.6 bytes per byte of image data (983 KB for a 382 KB photo PNG), most of it on the large-object heap. A stream
    /// that stops short (.NET's inflater reports running out of input as a normal end) must still have given the
    /// <paramref name="rawBytes"/> the header needs, else decoders fail on it or fill the missing rows.
    /// </summary>
    private static unsafe bool InflateIdat(ReadOnlySpan<byte> png, string name, long rawBytes, long idatBytes, bool wholeInflate)
    {
        if (wholeInflate && rawBytes > 0 && rawBytes <= WholeInflateLimit && Libdeflate.IsAvailable && InflatesWhole(png, rawBytes, idatBytes))
        {
            return true;
        }
        var sink = ArrayPool<byte>.Shared.Rent(1 << 16);
        long inflated = 0;
        try
        {
            fixed (byte* p = png)
            {
                using var z = new ZLibStream(new IdatStream(p, png.Length), CompressionMode.Decompress);
                int read;
                while ((read = z.Read(sink, 0, sink.Length)) > 0)
                {
                    inflated += read;
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw Bad(name, $"corrupt PNG image data ({e.Message.TrimEnd('.')})");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }
        if (inflated < rawBytes)
        {
            throw Bad(name, string.Create(CultureInfo.InvariantCulture,
                $"truncated PNG image data (it inflates to {inflated:N0} bytes; the {BinaryPrimitives.ReadUInt32BigEndian(png[16..])}×{BinaryPrimitives.ReadUInt32BigEndian(png[20..])} header needs {rawBytes:N0})"));
        }
        return false;
    }

    /// <summary>Image data that inflates to at most this many bytes may be inflated whole (one buffer per validating thread).</summary>
    private const long WholeInflateLimit = 16L * 1024 * 1024;

    /// <summary>
    /// True when the IDAT data, gathered into one buffer, is a complete zlib stream (header, data and Adler-32 checked by
    /// libdeflate) of exactly the <paramref name="rawBytes"/> the header needs: a 1024×768 photo PNG in ~3.0 instead of
    /// ~4.5 ms. Anything else (damage, a stream cut short or running on) goes to the streaming inflate, which names it.
    /// </summary>
    private static bool InflatesWhole(ReadOnlySpan<byte> png, long rawBytes, long idatBytes)
    {
        var compressed = ArrayPool<byte>.Shared.Rent((int)idatBytes);
        var raw = ArrayPool<byte>.Shared.Rent((int)rawBytes);
        try
        {
            // CheckPng walked every chunk to IEND, so the IDAT bodies lie where the gather reads them.
            PngDecoder.Gather(png, compressed.AsSpan(0, (int)idatBytes));
            return Libdeflate.InflateZlib(compressed.AsSpan(0, (int)idatBytes), raw.AsSpan(0, (int)rawBytes)) == Libdeflate.Result.Success;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>
    /// The bodies of a PNG's IDAT chunks, in order, as one read-only stream over the file's bytes in place. The caller
    /// keeps those bytes pinned while the stream is in use and has checked that every chunk lies inside them.
    /// </summary>
    private sealed unsafe class IdatStream(byte* png, int length) : Stream
    {
        private int _next = 8; // the next chunk's header, after the signature
        private int _at;
        private int _end;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_at == _end)
            {
                if (!NextIdat())
                {
                    return 0;
                }
            }
            var n = Math.Min(buffer.Length, _end - _at);
            new ReadOnlySpan<byte>(png + _at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        private bool NextIdat()
        {
            while (_next + 12 <= length)
            {
                var chunk = new ReadOnlySpan<byte>(png + _next, length - _next);
                var size = BinaryPrimitives.ReadUInt32BigEndian(chunk);
                var type = chunk.Slice(4, 4);
                // Bytes after IEND were never checked (decoders ignore them): stop there, and never read past the file.
                if (type.SequenceEqual("IEND"u8) || size > (uint)(chunk.Length - 12))
                {
                    _next = length;
                    return false;
                }
                var body = _next + 8;
                _next = body + (int)size + 4;
                if (type.SequenceEqual("IDAT"u8))
                {
                    (_at, _end) = (body, body + (int)size);
                    return true;
                }
            }
            return false;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static void CheckJpeg(ReadOnlySpan<byte> jpeg, string name, bool decodeScans)
    {
        var pos = 2;
        var sawFrame = false;
        var frame = new JpegFrame();
        var scans = 0;
        while (true)
        {
            // Markers may be preceded by fill bytes 0xFF.
            if (pos >= jpeg.Length || jpeg[pos] != 0xFF)
            {
                throw pos >= jpeg.Length
                    ? Bad(name, "truncated JPEG (no end-of-image marker)")
                    : Bad(name, string.Create(CultureInfo.InvariantCulture, $"corrupt JPEG (expected a marker at byte {pos})"));
            }
            while (pos < jpeg.Length && jpeg[pos] == 0xFF)
            {
                pos++;
            }
            if (pos >= jpeg.Length)
            {
                throw Bad(name, "truncated JPEG (no end-of-image marker)");
            }
            var marker = jpeg[pos++];
            if (marker == 0xD9)
            {
                if (!sawFrame)
                {
                    throw Bad(name, "corrupt JPEG (no frame header before end of image)");
                }
                if (frame.UncodedComponent() is { } missing)
                {
                    throw Bad(name, string.Create(CultureInfo.InvariantCulture,
                        $"truncated JPEG (the image ends after {scans} scan(s), before component {missing + 1} of {frame.Components} is coded)"));
                }
                break;
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                continue; // Stand-alone markers: no length.
            }
            if (jpeg.Length - pos < 2)
            {
                throw Bad(name, "truncated JPEG (segment length cut)");
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[pos..]);
            if (length < 2 || jpeg.Length - pos < length)
            {
                throw Bad(name, string.Create(CultureInfo.InvariantCulture, $"truncated JPEG (segment 0xFF{marker:X2} at byte {pos - 2} runs past the end)"));
            }
            var isFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            var body = jpeg.Slice(pos + 2, length - 2);
            if (isFrame)
            {
                frame.ReadFrame(marker, body, first: !sawFrame);
            }
            else if (marker == 0xC4)
            {
                frame.ReadHuffmanTables(body);
            }
            sawFrame |= isFrame;
            pos += length;
            if (marker == 0xDA)
            {
                if (!sawFrame)
                {
                    throw Bad(name, "corrupt JPEG (scan before frame header)");
                }
                scans++;
                var neededBits = frame.ReadScan(body);
                var start = pos;
                // Entropy-coded data: skip to the next marker that is not a stuffed 0xFF00 or a restart marker.
                while (true)
                {
                    var next = jpeg[pos..].IndexOf((byte)0xFF);
                    if (next < 0 || pos + next + 1 >= jpeg.Length)
                    {
                        throw Bad(name, "truncated JPEG (scan data runs to the end of the file, no end-of-image marker)");
                    }
                    pos += next;
                    var b = jpeg[pos + 1];
                    if (b == 0x00 || b is >= 0xD0 and <= 0xD7 || b == 0xFF)
                    {
                        pos += b == 0xFF ? 1 : 2;
                        continue;
                    }
                    break;
                }
                if ((long)(pos - start) * 8 < neededBits)
                {
                    throw Bad(name, string.Create(CultureInfo.InvariantCulture,
                        $"truncated JPEG (scan {scans} holds {pos - start:N0} bytes of data; the {frame.Width}×{frame.Height} frame's blocks need at least {(neededBits + 7) / 8:N0})"));
                }
            }
        }

        // The marker walk cannot see scan data that stops early when the file still ends in EOI (a cut file with FF D9
        // appended, corrupt data): libjpeg fills what is missing with gray and only warns, and Skia's libjpeg goes on.
        // TurboJPEG, where it loads, decodes the entropy data (at 1/8 scale) and says whether a warning lost data.
        if (decodeScans && TurboJpegDecoder.FindDataLoss(jpeg) is { } loss)
        {
            throw Bad(name, $"truncated or corrupt JPEG data ({loss})");
        }
    }

    /// <summary>
    /// What the JPEG marker walk needs to bound each scan's entropy-coded data from below: the first frame's size and
    /// components, the Huffman tables' shortest code lengths, and which components have had their DC coefficients coded.
    /// Anything it does not model (arithmetic coding, lossless or hierarchical frames, a height defined by DNL, a
    /// second frame, a table not yet defined) gives no bound, never a verdict.
    /// </summary>
    private sealed class JpegFrame
    {
        private readonly int[] _ids = new int[4];
        private readonly int[] _h = new int[4];
        private readonly int[] _v = new int[4];
        private readonly int[] _shortestCode = new int[8]; // [class * 4 + id]: DC 0–3, AC 4–7; 0 when undefined
        private bool _modelled;
        private bool _progressive;
        private int _hMax;
        private int _vMax;
        private int _dcCoded; // bit per component index

        public int Width { get; private set; }

        public int Height { get; private set; }

        public int Components { get; private set; }

        public void ReadFrame(byte marker, ReadOnlySpan<byte> body, bool first)
        {
            _modelled = false;
            // SOF0/1 sequential and SOF2 progressive Huffman, first frame only (a second frame: not modelled).
            if (!first || marker is not (0xC0 or 0xC1 or 0xC2) || body.Length < 6)
            {
                Components = 0;
                return;
            }
            Height = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
            Width = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
            var n = body[5];
            if (Height == 0 || Width == 0 || n is 0 or > 4 || body.Length < 6 + (3 * n))
            {
                return;
            }
            for (var c = 0; c < n; c++)
            {
                _ids[c] = body[6 + (3 * c)];
                _h[c] = body[7 + (3 * c)] >> 4;
                _v[c] = body[7 + (3 * c)] & 15;
                if (_h[c] is 0 or > 4 || _v[c] is 0 or > 4)
                {
                    return;
                }
                _hMax = Math.Max(_hMax, _h[c]);
                _vMax = Math.Max(_vMax, _v[c]);
            }
            Components = n;
            _progressive = marker == 0xC2;
            _modelled = true;
        }

        public void ReadHuffmanTables(ReadOnlySpan<byte> body)
        {
            var at = 0;
            while (body.Length - at >= 17)
            {
                int cls = body[at] >> 4, id = body[at] & 15;
                var counts = body.Slice(at + 1, 16);
                int shortest = 0, symbols = 0;
                for (var i = 0; i < 16; i++)
                {
                    if (counts[i] > 0 && shortest == 0)
                    {
                        shortest = i + 1;
                    }
                    symbols += counts[i];
                }
                if (cls > 1 || id > 3)
                {
                    return; // malformed: the decoder names it
                }
                _shortestCode[(cls * 4) + id] = shortest;
                at += 17 + symbols;
            }
        }

        /// <summary>The fewest bits the scan's entropy-coded data can have (0 when not modelled); notes the components whose DC it codes.</summary>
        public long ReadScan(ReadOnlySpan<byte> body)
        {
            if (body.Length < 1 || body.Length < 1 + (2 * body[0]) + 3)
            {
                _modelled = false; // a malformed scan header: the decoder names it
                return 0;
            }
            int n = body[0];
            int ss = body[1 + (2 * n)], ah = body[3 + (2 * n)] >> 4;
            long bits = 0;
            for (var k = 0; k < n; k++)
            {
                var c = Array.IndexOf(_ids, body[1 + (2 * k)], 0, Components);
                if (c < 0)
                {
                    _modelled = false;
                    return 0;
                }
                if (ss == 0)
                {
                    _dcCoded |= 1 << c;
                }
                int dc = _shortestCode[(body[2 + (2 * k)] >> 4) & 3], ac = _shortestCode[4 + (body[2 + (2 * k)] & 3)];
                // Each block of a sequential scan codes one DC symbol and at least one AC symbol (EOB, or coefficient 63);
                // of a progressive DC scan, one DC symbol (first) or one bit (refinement); AC scans can cover whole
                // bands of blocks with one end-of-band run, so they give no useful bound.
                long perBlock = !_progressive ? (dc == 0 || ac == 0 ? 0 : dc + ac) : ss != 0 ? 0 : ah == 0 ? dc : 1;
                bits += perBlock * Blocks(c, interleaved: n > 1);
            }
            return _modelled ? bits : 0;
        }

        /// <summary>A component that no scan coded (its DC coefficients) by the end of the image, when modelled; else null.</summary>
        public int? UncodedComponent()
        {
            for (var c = 0; _modelled && c < Components; c++)
            {
                if ((_dcCoded & (1 << c)) == 0)
                {
                    return c;
                }
            }
            return null;
        }

        /// <summary>ITU T.81 A.2: a lone component's scan codes only the blocks its samples cover; an interleaved one whole MCUs.</summary>
        private long Blocks(int c, bool interleaved)
        {
            if (interleaved)
            {
                long mcusAcross = (Width + (8L * _hMax) - 1) / (8L * _hMax), mcusDown = (Height + (8L * _vMax) - 1) / (8L * _vMax);
                return mcusAcross * mcusDown * _h[c] * _v[c];
            }
            long w = ((long)Width * _h[c] + _hMax - 1) / _hMax, h = ((long)Height * _v[c] + _vMax - 1) / _vMax;
            return ((w + 7) / 8) * ((h + 7) / 8);
        }
    }

    private static string TypeName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            chars[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        }
        return new string(chars);
    }

    /// <summary>The one-line message for a damaged file: what is wrong, and what to do.</summary>
    internal static ZetaPrepException Bad(string name, string what) => new($"{name}: {what}; re-download or remove the file (or pass --on-error skip).");
}
