using System.Security.Cryptography;
using ZetaPrep.Shards;

namespace ZetaPrep.Tests.Shards;

/// <summary>The shard stream: bytes and SHA-256 of everything written, including across the 8 MiB write-back points.</summary>
public sealed class HashingWriteStreamTests
{
    [Fact]
    public async Task A_file_written_past_several_writeback_points_holds_exactly_the_bytes_and_hash_written()
    {
        var path = Path.Combine(Path.GetTempPath(), $"zp-hash-{Guid.NewGuid():N}.bin");
        try
        {
            var data = new byte[(int)(2.5 * HashingWriteStream.WritebackEvery) + 12_345];
            new Random(7).NextBytes(data);
            long sizeBeforeClose;
            string hex;
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16))
            using (var hashing = new HashingWriteStream(file))
            {
                // Odd chunk sizes (sync and async, as Parquet.Net mixes them) so that write-back points fall mid-chunk.
                int pos = 0;
                for (int i = 0; pos < data.Length; i++)
                {
                    int n = Math.Min(data.Length - pos, 1_000_003 + (i * 77_777 % 500_000));
                    if (i % 2 == 0)
                    {
                        hashing.Write(data.AsSpan(pos, n));
                    }
                    else
                    {
                        await hashing.WriteAsync(data.AsMemory(pos, n));
                    }
                    pos += n;
                }
                // The write-back points flushed FileStream's own buffer: the OS already has (almost) all of it.
                sizeBeforeClose = new FileInfo(path).Length;
                hashing.Flush();
                hex = hashing.Sha256Hex();
                Assert.Equal(data.Length, hashing.BytesWritten);
            }
            Assert.True(sizeBeforeClose >= 2 * HashingWriteStream.WritebackEvery, $"only {sizeBeforeClose} bytes reached the file before the flush");
            Assert.Equal(data, await File.ReadAllBytesAsync(path));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), hex);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_data_sync_starts_only_on_a_file_with_enough_new_bytes_and_one_at_a_time()
    {
        var path = Path.Combine(Path.GetTempPath(), $"zp-sync-{Guid.NewGuid():N}.bin");
        try
        {
            var data = new byte[3 * HashingWriteStream.DataSyncMin + 5];
            new Random(11).NextBytes(data);
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16))
            using (var hashing = new HashingWriteStream(file))
            {
                hashing.Write(data.AsSpan(0, (int)HashingWriteStream.DataSyncMin - 1));
                Assert.False(hashing.StartDataSync()); // under DataSyncMin new bytes
                hashing.Write(data.AsSpan((int)HashingWriteStream.DataSyncMin - 1, 2));
                Assert.True(hashing.StartDataSync());
                // The sync covers what the file had: FileStream's own buffer was flushed first.
                Assert.Equal(HashingWriteStream.DataSyncMin + 1, new FileInfo(path).Length);
                Assert.False(hashing.StartDataSync()); // no new bytes since
                hashing.Write(data.AsSpan((int)HashingWriteStream.DataSyncMin + 1));
                hashing.WaitForDataSync();
                Assert.True(hashing.StartDataSync()); // the first one is done and 2 MiB are new
                await hashing.WriteAsync(new byte[1]);
                hashing.Flush();
                Assert.Equal(data.Length + 1, hashing.BytesWritten);
            }
            Assert.Equal([.. data, 0], await File.ReadAllBytesAsync(path));

            using var memory = new MemoryStream();
            using var notAFile = new HashingWriteStream(memory);
            notAFile.Write(data);
            Assert.False(notAFile.StartDataSync());
            Assert.Equal(data, memory.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_file_that_cannot_be_synced_is_written_as_FileStream_flushes_it()
    {
        // fdatasync on a character device fails with EINVAL, which FileStream.Flush(flushToDisk: true) ignores: so does the data sync.
        using var devNull = new FileStream("/dev/null", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1 << 16);
        using var hashing = new HashingWriteStream(devNull);
        hashing.Write(new byte[HashingWriteStream.DataSyncMin + 1]);
        Assert.True(hashing.StartDataSync());
        hashing.WaitForDataSync();
        devNull.Flush(flushToDisk: true);
        Assert.Equal(HashingWriteStream.DataSyncMin + 1, hashing.BytesWritten);
    }
}
