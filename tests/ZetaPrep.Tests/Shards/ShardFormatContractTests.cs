using System.Security.Cryptography;
using System.Text;
using Xunit.Abstractions;
using ZetaPrep.Shards;
using ZetaPrep.TestSupport;

namespace ZetaPrep.Tests.Shards;

/// <summary>The contract every <see cref="IShardFormat"/> keeps: rows round-trip, Complete commits atomically, Dispose without Complete leaves nothing.</summary>
public sealed class ShardFormatContractTests(ITestOutputHelper output)
{
    public static TheoryData<ShardFormat> Formats => new() { ShardFormat.Parquet, ShardFormat.WebDataset, ShardFormat.Folder };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Rows_RoundTrip_ThroughWriterAndReader(ShardFormat kind)
    {
        using var dir = new TempDirectory();
        var format = ShardFormats.Get(kind);
        var relative = format.ShardFileName("train", 1, 3);
        var rows = ShardFixtures.Rows(23, imageBytes: 700);
        ShardFileInfo info;
        await using (var writer = await format.CreateWriterAsync(dir.Path, relative, ShardFixtures.Schema, CancellationToken.None))
        {
            await writer.WriteRowGroupAsync(rows[..10], CancellationToken.None);
            await writer.WriteRowGroupAsync(rows[10..], CancellationToken.None);
            info = await writer.CompleteAsync(CancellationToken.None);
        }

        var bytes = await File.ReadAllBytesAsync(Path.Combine(dir.Path, relative));
        Assert.Equal(Path.Combine(dir.Path, relative), info.Path);
        Assert.Equal(23, info.Rows);
        Assert.Equal(bytes.Length, info.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), info.Sha256Hex);
        // What the shard takes on disk: its file, and for the folder format the images its part lists as well.
        Assert.Equal(dir.AllFiles().Sum(f => new FileInfo(f).Length), await format.StoredBytesAsync(dir.Path, relative, CancellationToken.None));
        Assert.DoesNotContain(dir.AllFiles(), f => Path.GetFileName(f).StartsWith('.'));
        Assert.All(dir.AllFiles(), f => Assert.True(format.IsInDataArea(Path.GetRelativePath(dir.Path, f).Replace('\\', '/')), f));
        // By exact name, what --overwrite deletes (and nothing else in the data area, a user's notes there included); the
        // folder format's images are named by the rows' image paths (generate's are images/{row:D8}.png).
        Assert.True(ShardFormats.IsOutputFile(relative), relative);

        var read = new List<ShardRow>();
        await foreach (var row in format.ReadRowsAsync(dir.Path, relative, CancellationToken.None))
        {
            read.Add(row);
        }
        Assert.Equal(rows.Count, read.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            ShardFixtures.AssertEqual(rows[i], read[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task DataSync_BetweenRowGroups_ChangesNoByte_AndAnAbortStillLeavesNoFile(ShardFormat kind)
    {
        using var dir = new TempDirectory();
        var format = ShardFormats.Get(kind);
        var relative = format.ShardFileName("train", 0, 1);
        // 2 × 1.5 MB of images: past HashingWriteStream.DataSyncMin, so the file formats really start an fdatasync.
        var rows = ShardFixtures.Rows(40, imageBytes: 75_000);

        async Task<byte[]> WriteAsync(string root, bool sync)
        {
            await using var writer = await format.CreateWriterAsync(root, relative, ShardFixtures.Schema, CancellationToken.None);
            await writer.WriteRowGroupAsync(rows[..20], CancellationToken.None);
            if (sync)
            {
                writer.StartDataSync();
                writer.StartDataSync(); // one running already, or too few new bytes: nothing more starts
            }
            await writer.WriteRowGroupAsync(rows[20..], CancellationToken.None);
            if (sync)
            {
                writer.StartDataSync(); // still running or just done: the closing fsync waits for it either way
            }
            var info = await writer.CompleteAsync(CancellationToken.None);
            return SHA256.HashData(await File.ReadAllBytesAsync(info.Path));
        }

        Directory.CreateDirectory(Path.Combine(dir.Path, "plain"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "synced"));
        Assert.Equal(await WriteAsync(Path.Combine(dir.Path, "plain"), sync: false), await WriteAsync(Path.Combine(dir.Path, "synced"), sync: true));

        var aborted = Path.Combine(dir.Path, "aborted");
        Directory.CreateDirectory(aborted);
        await using (var writer = await format.CreateWriterAsync(aborted, relative, ShardFixtures.Schema, CancellationToken.None))
        {
            await writer.WriteRowGroupAsync(rows, CancellationToken.None);
            writer.StartDataSync();
        }
        Assert.Empty(Directory.GetFiles(aborted, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Dispose_WithoutComplete_LeavesNoFile(ShardFormat kind)
    {
        using var dir = new TempDirectory();
        var format = ShardFormats.Get(kind);
        var writer = await format.CreateWriterAsync(dir.Path, format.ShardFileName("train", 0, 1), ShardFixtures.Schema, CancellationToken.None);
        await writer.WriteRowGroupAsync(ShardFixtures.Rows(5), CancellationToken.None);
        await writer.DisposeAsync();
        Assert.Empty(dir.AllFiles());
    }

    /// <summary>
    /// A disk that fills while a shard is written: whether the write, the commit or only the close of the file fails, the
    /// writer's disposal deletes everything it wrote (the run's error says the shard in progress was discarded; a temp
    /// file left behind would keep the space). Needs root for the tmpfs; without it the test says so and returns.
    /// </summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public async Task DiskFull_ThenDispose_LeavesNoFile(ShardFormat kind)
    {
        using var dir = new TempDirectory();
        using var disk = SmallTmpfs.TryMount(dir.Path, "64k");
        if (disk is null)
        {
            output.WriteLine("not run: mounting a tmpfs needs root");
            return;
        }
        var format = ShardFormats.Get(kind);
        var writer = await format.CreateWriterAsync(disk.Path, format.ShardFileName("train", 0, 1), ShardFixtures.Schema, CancellationToken.None);
        var failed = false;
        try
        {
            // 24 rows of 8 KB: three times what the disk holds.
            await writer.WriteRowGroupAsync(ShardFixtures.Rows(24, imageBytes: 8000), CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }
        catch (IOException)
        {
            failed = true;
        }
        await writer.DisposeAsync();
        Assert.True(failed, "the shard should not fit on the disk");
        Assert.Empty(disk.AllFiles());
    }

    /// <summary>
    /// The folder format's label part is its commit record: it is written only after every image is fsynced and renamed into
    /// place, so a commit that fails on the way (here: a temporary image removed behind the writer's back) leaves no part.
    /// </summary>
    [Fact]
    public async Task Folder_CommitThatFails_LeavesNoLabelPart()
    {
        using var dir = new TempDirectory();
        var format = ShardFormats.Get(ShardFormat.Folder);
        var relative = format.ShardFileName("train", 0, 1);
        var writer = await format.CreateWriterAsync(dir.Path, relative, ShardFixtures.Schema, CancellationToken.None);
        await writer.WriteRowGroupAsync(ShardFixtures.Rows(5), CancellationToken.None);
        var temps = dir.AllFiles();
        Assert.Equal(5, temps.Length);
        Assert.All(temps, f => Assert.StartsWith(".", Path.GetFileName(f), StringComparison.Ordinal));
        File.Delete(temps[3]);

        await Assert.ThrowsAsync<FileNotFoundException>(() => writer.CompleteAsync(CancellationToken.None));
        await writer.DisposeAsync();
        Assert.False(File.Exists(Path.Combine(dir.Path, relative)));
        Assert.Empty(dir.AllFiles());
    }

    [Fact]
    public async Task WebDataset_Headers_ArePlainUstar_FieldByField()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard-000000.tar");
        var rows = ShardFixtures.Rows(4, imageBytes: 600);
        await using (var writer = await WebDatasetShardWriter.CreateAsync(path, ShardFixtures.Schema, CancellationToken.None))
        {
            await writer.WriteRowGroupAsync(rows, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        var tar = await File.ReadAllBytesAsync(path);
        var names = new List<string>();
        var offset = 0;
        while (tar.AsSpan(offset, 512).ContainsAnyExcept((byte)0))
        {
            var h = tar.AsSpan(offset, 512);
            Assert.Equal((byte)'0', h[156]); // regular file: never 'x'/'g' (pax) or 'L' (GNU long name)
            Assert.Equal("ustar\0"u8.ToArray(), h.Slice(257, 6).ToArray());
            Assert.Equal("00"u8.ToArray(), h.Slice(263, 2).ToArray());
            Assert.Equal("0000644\0"u8.ToArray(), h.Slice(100, 8).ToArray());
            Assert.Equal("0000000\0"u8.ToArray(), h.Slice(108, 8).ToArray());
            Assert.Equal("00000000000\0"u8.ToArray(), h.Slice(136, 12).ToArray());
            Assert.True(h.Slice(265, 64).IndexOfAnyExcept((byte)0) < 0, "uname/gname must be empty");
            Assert.True(h.Slice(345, 155).IndexOfAnyExcept((byte)0) < 0, "no ustar prefix");
            var sum = 0;
            for (var i = 0; i < 512; i++)
            {
                sum += i is >= 148 and < 156 ? ' ' : h[i];
            }
            Assert.Equal(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", Encoding.ASCII.GetString(h.Slice(148, 8)));
            var name = Encoding.ASCII.GetString(h[..100]).TrimEnd('\0');
            names.Add(name);
            var size = Convert.ToInt64(Encoding.ASCII.GetString(h.Slice(124, 11)), 8);
            Assert.Equal(0, h[135]);
            offset += 512 + (int)((size + 511) / 512 * 512);
        }
        Assert.Equal(offset + 1024, tar.Length);
        Assert.Equal(rows.SelectMany(r => new[] { ".png", ".json", ".cls" }.Select(e => r.ImagePath[..^4] + e)), names);
    }

    [Fact]
    public async Task WebDataset_RefusesDuplicateKeys_AndOverlongNames()
    {
        using var dir = new TempDirectory();
        var rows = ShardFixtures.Rows(2);
        await using var writer = await WebDatasetShardWriter.CreateAsync(Path.Combine(dir.Path, "a.tar"), ShardFixtures.Schema, CancellationToken.None);
        await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteRowGroupAsync([rows[0], rows[0]], CancellationToken.None));
        var block = new byte[512];
        Assert.Throws<ArgumentException>(() => UstarHeader.Write(block, new string('k', 97) + ".png", 1));
    }
}
