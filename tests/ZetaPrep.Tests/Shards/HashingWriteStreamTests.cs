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
}
