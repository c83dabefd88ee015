using System.Runtime.InteropServices;

namespace ZetaPrep.Sources;

/// <summary>
/// What changes when a file is written, replaced or moved: size, modification and status-change times in nanoseconds,
/// inode and device (Linux statx). Any write changes the status-change time, which no user call can set back, so an
/// unchanged identity means unchanged bytes — what git's index and DVC's state database trust.
/// </summary>
internal readonly partial record struct FileIdentity(long Size, long MtimeNs, long CtimeNs, ulong Inode, ulong Device)
{
    // struct statx (linux/stat.h): 256 bytes; the offsets of the fields read below.
    private const int StatxSize = 256, InoOffset = 32, SizeOffset = 40, CtimeOffset = 96, MtimeOffset = 112, DevMajorOffset = 136, DevMinorOffset = 140;
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>Both times set: some FUSE and network file systems report 0, which would hide a rewrite.</summary>
    public bool Trustworthy => MtimeNs > 0 && CtimeNs > 0;

    /// <summary>
    /// Whether a status change at <paramref name="ctimeNs"/> lies at least <paramref name="window"/> in the past: only then
    /// can what was read be remembered, since a change within the same clock tick would leave the identity unchanged.
    /// </summary>
    /// <remarks>
    /// The clock is read to 100 ns (not to the millisecond, which put "now" up to 1 ms in the past: a file changed in
    /// the current millisecond then never counted as settled, even with no window).
    /// </remarks>
    public static bool Settled(long ctimeNs, TimeSpan window) =>
        ((DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100) - ctimeNs >= window.Ticks * 100;

    /// <summary>The file's identity, or null where it cannot be had (not Linux, no such file, statx refused).</summary>
    public static FileIdentity? Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        Span<byte> buffer = stackalloc byte[StatxSize];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                return null;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        static long Nanoseconds(ReadOnlySpan<byte> at) => (MemoryMarshal.Read<long>(at) * 1_000_000_000L) + MemoryMarshal.Read<uint>(at[8..]);
        return new FileIdentity(MemoryMarshal.Read<long>(buffer[SizeOffset..]), Nanoseconds(buffer[MtimeOffset..]), Nanoseconds(buffer[CtimeOffset..]),
            MemoryMarshal.Read<ulong>(buffer[InoOffset..]),
            ((ulong)MemoryMarshal.Read<uint>(buffer[DevMajorOffset..]) << 32) | MemoryMarshal.Read<uint>(buffer[DevMinorOffset..]));
    }

    /// <summary>The inode and device an open file descriptor refers to, or null where it cannot be had (not Linux, statx refused).</summary>
    public static (ulong Inode, ulong Device)? NodeOf(int fd)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        return OfDescriptor(fd, StatxBasicStats, buffer)
            ? (MemoryMarshal.Read<ulong>(buffer[InoOffset..]), ((ulong)MemoryMarshal.Read<uint>(buffer[DevMajorOffset..]) << 32) | MemoryMarshal.Read<uint>(buffer[DevMinorOffset..]))
            : null;
    }

    /// <summary>What <see cref="DeviceKind"/> calls a FIFO.</summary>
    public const string Fifo = "a FIFO (named pipe)";

    /// <summary>
    /// What an open file descriptor is when it is a device, a socket or a FIFO ("a character device", <see cref="Fifo"/>),
    /// else null (a regular file, or no answer). Reading a device or socket as an image has no end (/dev/zero,
    /// /dev/urandom) or no meaning; a FIFO reads as a stream while something writes to it.
    /// </summary>
    public static string? DeviceKind(int fd)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        if (!OfDescriptor(fd, StatxType, buffer))
        {
            return null;
        }
        return (MemoryMarshal.Read<ushort>(buffer[ModeOffset..]) & 0xF000) switch
        {
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            0x1000 => Fifo,
            _ => null,
        };
    }

    /// <summary>statx of the descriptor itself (AT_EMPTY_PATH: no second walk of its path) into <paramref name="buffer"/>; false where not answered.</summary>
    private static bool OfDescriptor(int fd, uint mask, Span<byte> buffer)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            return Statx(fd, "", AtEmptyPath, mask, ref MemoryMarshal.GetReference(buffer)) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const int ModeOffset = 28, AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
