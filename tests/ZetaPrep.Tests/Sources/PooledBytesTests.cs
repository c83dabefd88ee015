using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

public sealed class PooledBytesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-pooled-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void ReadFile_RefusesADevice_InsteadOfReadingIt(long expected)
    {
        var link = Path.Combine(_root, "zero.png");
        File.CreateSymbolicLink(link, "/dev/zero");
        var e = Assert.Throws<NotAFileException>(() => PooledBytes.ReadFile(link, expected));
        Assert.Equal("it is a character device, not an image file", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(137_000)]
    [InlineData(3 * 1024 * 1024 + 7)] // over a typical pool bucket and the 1 MiB ArrayPool limit of older runtimes
    public void ReadFile_ReturnsExactlyTheFileBytes(int size)
    {
        var path = Path.Combine(_root, "f.jpg");
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        // No length (.NET's handle), the listed one, and stale ones (libc's read: the first buffer too small or too large).
        foreach (var expected in new long[] { 0, size, 1, size / 2, size + 1, (2L * size) + 10 })
        {
            using var read = PooledBytes.ReadFile(path, expected);
            Assert.Equal(size, read.Length);
            Assert.True(read.Span.SequenceEqual(bytes), $"expected length {expected}");
            Assert.True(read.Memory.Span.SequenceEqual(bytes));
        }
    }

    [Theory]
    [InlineData(0)] // what the listing gives a FIFO
    [InlineData(100)]
    public async Task ReadFile_RefusesAFifoThatNothingWritesTo_AndReadsOneThatSomethingDoes(long expectedLength)
    {
        // A FIFO's open blocks until something writes to it: a run over a folder holding one that nothing wrote to hung
        // with no output, even under --on-error skip (QA). mkfifo: the test projects are linux-x64.
        var path = Path.Combine(_root, "fifo.jpg");
        using (var mkfifo = Process.Start("mkfifo", [path]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var read = Task.Run(() => PooledBytes.ReadFile(path, expectedLength));
        var e = await Assert.ThrowsAsync<NotAFileException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("it is a FIFO (named pipe) that nothing writes to, not an image file", e.Message);

        // While something writes to it, a FIFO is read as a stream to its end (more than the first 4 KiB chunk, and more
        // than the pipe's buffer). The write end is opened read-write, which never waits for a reader.
        var bytes = new byte[100_003];
        new Random(1).NextBytes(bytes);
        var writer = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        var feed = Task.Run(() =>
        {
            using (writer)
            {
                writer.Write(bytes);
            }
        });
        using var stream = await Task.Run(() => PooledBytes.ReadFile(path, expectedLength)).WaitAsync(TimeSpan.FromSeconds(30));
        await feed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(stream.Span.SequenceEqual(bytes));
    }

    [Fact]
    public void ReadFile_ReadsToEndOfFile_WhenTheLengthIsUnknown()
    {
        // procfs reports length 0 and delivers more than the first 4 KiB chunk: the buffer must grow, nothing cut off.
        using var read = PooledBytes.ReadFile("/proc/self/maps", 0);
        Assert.True(read.Length > 4096, $"{read.Length} bytes");
        Assert.Equal((byte)'\n', read.Span[^1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4096)] // libc's open succeeds on a folder and its read fails: the .NET path gives the exception
    public void ReadFile_ThrowsWhatFileReadAllBytesThrows_ForMissingFilesAndFolders(long expectedLength)
    {
        var missing = Path.Combine(_root, "gone.jpg");
        Assert.Equal(Assert.ThrowsAny<IOException>(() => File.ReadAllBytes(missing)).Message, Assert.ThrowsAny<IOException>(() => PooledBytes.ReadFile(missing, expectedLength)).Message);
        var folder = Directory.CreateDirectory(Path.Combine(_root, "dir.jpg")).FullName;
        var expected = Record.Exception(() => File.ReadAllBytes(folder));
        var actual = Record.Exception(() => PooledBytes.ReadFile(folder, expectedLength));
        Assert.NotNull(expected);
        Assert.IsType(expected.GetType(), actual);
        Assert.Equal(expected.Message, actual!.Message);
    }

    [Fact]
    public void Dispose_ReturnsTheBufferOnce_AndTheBytesAreGoneAfterwards()
    {
        var path = Path.Combine(_root, "f.jpg");
        File.WriteAllBytes(path, new byte[5000]);
        var read = PooledBytes.ReadFile(path, 5000);
        Assert.True(MemoryMarshal.TryGetArray(read.Memory, out var segment));
        var buffer = segment.Array!;
        read.Dispose();
        read.Dispose(); // A second dispose must not return the array again (two renters would share it).
        Assert.Throws<ObjectDisposedException>(() => read.Span.Length);
        // The shared pool hands the last array returned on this thread back first: ours, then never ours again.
        var first = ArrayPool<byte>.Shared.Rent(buffer.Length);
        var second = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            Assert.Same(buffer, first);
            Assert.NotSame(buffer, second);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
            ArrayPool<byte>.Shared.Return(second);
        }
    }

    [Fact]
    public void Wrap_KeepsTheArray_AndNeverGivesItToThePool()
    {
        byte[] bytes = [1, 2, 3];
        var wrapped = PooledBytes.Wrap(bytes);
        Assert.True(wrapped.Span.SequenceEqual(bytes));
        wrapped.Dispose();
        wrapped.Dispose();
        Assert.Throws<ObjectDisposedException>(() => wrapped.Memory);
        var rented = ArrayPool<byte>.Shared.Rent(3);
        Assert.NotSame(bytes, rented);
        ArrayPool<byte>.Shared.Return(rented);
    }
}
