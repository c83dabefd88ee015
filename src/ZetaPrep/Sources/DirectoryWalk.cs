using System.IO.Enumeration;

namespace ZetaPrep.Sources;

/// <summary>The files under a folder, at any depth, for the folder sources' listings.</summary>
internal static class DirectoryWalk
{
    /// <summary>
    /// Every file below <paramref name="directory"/> (a symbolic link to a file included; one to a folder followed, as
    /// torchvision's ImageFolder does), with its size. A link back to a folder above itself would list the same images
    /// under ever longer names, each copy in the class of the folder it was reached through, until the OS gives up: it
    /// is refused instead, naming the link. Hidden folders (".thumbs", ".AppleDouble", ".@__thumb") are left out with
    /// <paramref name="skipHidden"/>, as hidden files are.
    /// </summary>
    public static IEnumerable<(string FullPath, long Size)> Files(string directory, bool skipHidden)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        return Guarded(directory, () => new FileSystemEnumerable<(string, long)>(directory, (ref FileSystemEntry e) => (e.ToFullPath(), SizeOf(ref e)), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            ShouldRecursePredicate = (ref FileSystemEntry e) => (!skipHidden || !e.FileName.StartsWith('.')) && !IsLoop(ref e) && Openable(ref e),
        });
    }

    /// <summary>
    /// Whether a sub-folder can be opened by the name .NET gives it. A name that is not valid UTF-8 comes back with U+FFFD
    /// in place of the bad bytes, which opens nothing, and the enumerator then passes over the folder as if it had been
    /// deleted meanwhile: its images would be left out without a word (QA). It is refused instead, naming it.
    /// </summary>
    private static bool Openable(ref FileSystemEntry e)
    {
        if (e.FileName.Contains('\uFFFD') && !Directory.Exists(e.ToFullPath()))
        {
            throw NotUtf8(e.ToFullPath());
        }
        return true;
    }

    private static ZetaPrepException NotUtf8(string directory) =>
        new($"{directory}: cannot list it: its name is not valid UTF-8 (shown with �), which .NET cannot open; rename it to UTF-8, e.g. convmv -f latin1 -t utf-8 --notest -r on its parent folder.");

    /// <summary>
    /// <paramref name="entries"/> of a listing below <paramref name="directory"/>, a folder that cannot be listed (no
    /// permission, an I/O error) failing as one line naming it instead of an unhandled exception (the process aborted).
    /// The listing is made here, not by the caller: .NET opens the folder as the enumerable is created, so a folder that
    /// cannot be opened fails there.
    /// </summary>
    internal static IEnumerable<T> Guarded<T>(string directory, Func<IEnumerable<T>> entries)
    {
        IEnumerator<T> e;
        try
        {
            e = entries().GetEnumerator();
        }
        catch (Exception x) when (x is UnauthorizedAccessException or IOException)
        {
            throw CannotList(directory, x);
        }
        using (e)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = e.MoveNext();
                }
                catch (Exception x) when (x is UnauthorizedAccessException or IOException)
                {
                    throw CannotList(directory, x);
                }
                if (!more)
                {
                    yield break;
                }
                yield return e.Current;
            }
        }
    }

    /// <summary>The message for a folder (or one below it) that cannot be listed.</summary>
    internal static ZetaPrepException CannotList(string directory, Exception e) =>
        directory.Contains('\uFFFD', StringComparison.Ordinal) && !Directory.Exists(directory)
            ? NotUtf8(directory)
            : new($"{directory}: cannot list it or a folder below it ({e.Message.TrimEnd('.')}); make it readable (e.g. chmod -R u+rX) or move it out of the input.", e);

    /// <summary>
    /// The entry's size, or 0 where it cannot be had: a file gone since it was listed, or a name that is not valid UTF-8
    /// (.NET turns the bad bytes into U+FFFD, and the name it gives back then opens nothing). Reading it fails later
    /// with a message naming the file, which --on-error skip can leave out.
    /// </summary>
    private static long SizeOf(ref FileSystemEntry e)
    {
        try
        {
            return e.Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Whether the entry is a symbolic link to a folder that holds it (same inode and device as an ancestor).</summary>
    private static bool IsLoop(ref FileSystemEntry e)
    {
        if ((e.Attributes & FileAttributes.ReparsePoint) == 0)
        {
            return false;
        }
        var link = e.ToFullPath();
        if (FileIdentity.Of(link) is not { } target)
        {
            return false;
        }
        for (var up = e.Directory.ToString(); !string.IsNullOrEmpty(up); up = Path.GetDirectoryName(up))
        {
            if (FileIdentity.Of(up) is { } ancestor && ancestor.Inode == target.Inode && ancestor.Device == target.Device)
            {
                throw new ZetaPrepException($"{link}: a symbolic link to {up}, a folder that holds it (a loop: every image below would be listed again and again, under ever longer names); remove the link or point it outside that folder.");
            }
        }
        return false;
    }

    /// <summary>The message for a file that cannot be read, with the way out for a name .NET cannot open.</summary>
    public static ZetaPrepException CannotRead(string path, Exception e) =>
        e is NotAFileException
            ? new ZetaPrepException($"{path}: {e.Message}; remove it from the input (or use --on-error skip).", e)
            : path.Contains('\uFFFD', StringComparison.Ordinal)
            ? new ZetaPrepException($"{path}: cannot read: its name is not valid UTF-8 (shown with �), which .NET cannot open; rename it to UTF-8, e.g. convmv -f latin1 -t utf-8 --notest -r on its folder.", e)
            : BrokenLink(path) is { } link
            ? new ZetaPrepException($"{path}: {link}; fix the link, or mount or restore what it points to.", e)
            : new ZetaPrepException($"{path}: cannot read ({e.Message}); check the file exists and is readable.", e);

    /// <summary>
    /// "a symbolic link to T, which does not exist" when <paramref name="path"/> is a link whose target is gone (a moved
    /// file, an unmounted disk), else null: "could not find file" named only the link, and advice such as downloading
    /// the file again missed the cause (QA).
    /// </summary>
    public static string? BrokenLink(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not { } target || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true })
            {
                return null;
            }
            return $"a symbolic link to {target}, which does not exist";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // a link loop or an unreadable folder: the caller's message stands
        }
    }
}
