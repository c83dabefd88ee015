using System.Globalization;
using System.Runtime.ExceptionServices;

namespace ZetaPrep.Sources;

/// <summary>An ImageFolder-style directory: one sub-folder per class (class index = ordinal sort of names), images inside.</summary>
public sealed class ImageFolderSource : IImageSource, IIdentifiableSource
{
    /// <summary>File extensions read as images (case-insensitive).</summary>
    public static IReadOnlySet<string> ImageExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp",
    };

    /// <summary>Image formats a dataset may hold that ZetaPrep does not read: the run notes how many it passed over.</summary>
    internal static IReadOnlySet<string> UnreadImageExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".tif", ".tiff", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".dcm", ".dng", ".nef", ".cr2", ".arw", ".psd", ".ico", ".svg",
    };

    private readonly string _root;
    private readonly ImageFolderOptions _options;
    private readonly PathGlob _exclude;

    public ImageFolderSource(string root)
        : this(root, new ImageFolderOptions())
    {
    }

    public ImageFolderSource(string root, ImageFolderOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _root = Path.GetFullPath(root);
        _options = options;
        _exclude = new PathGlob(options.Exclude);
    }

    public string Description => _root;

    InputsIdentity? IIdentifiableSource.Identify(IReadOnlyList<SourceItem> items, int threads, CancellationToken cancellationToken) =>
        InputsIdentity.Compute("folder " + _root, items, item => Path.Combine(_root, item.Id), threads, cancellationToken);

    public Task<SourceListing> ListAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(_root))
        {
            throw ZetaPrepException.Usage($"{_options.OptionName} {_root}: is a file; give a directory with one sub-folder per class.");
        }
        if (!Directory.Exists(_root))
        {
            throw ZetaPrepException.Usage($"{_options.OptionName} {_root}: directory not found; give a directory with one sub-folder per class.");
        }
        // Class folders sit --class-depth levels below the root; same-named ones under different parents are one class.
        IEnumerable<DirectoryInfo> level = [new DirectoryInfo(_root)];
        var loose = new List<string>(); // images above the class folders: in no class
        for (var d = 0; d < _options.ClassDepth; d++)
        {
            loose.AddRange(level.SelectMany(dir => DirectoryWalk.Guarded(dir.FullName, dir.EnumerateFiles))
                .Where(f => !IsHidden(f.Name) && ImageExtensions.Contains(f.Extension))
                .Select(f => Path.GetRelativePath(_root, f.FullName).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(id => _exclude.IsEmpty || !_exclude.Matches(id)));
            level = level.SelectMany(dir => DirectoryWalk.Guarded(dir.FullName, dir.EnumerateDirectories).Where(c => !IsHidden(c.Name))).ToList();
        }
        var classDirs = level
            .GroupBy(d => d.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        // Each class folder is listed (one lstat per file, for its size) on its own thread: on ImageNet's 1000 folders
        // of 1.28 M files one thread took seconds, more on a network file system. Errors are raised in class order.
        var found = new (string Id, long Size)[classDirs.Count][];
        var unread = new string[classDirs.Count][]; // the extensions of files in another image format
        var errors = new Exception?[classDirs.Count];
        var threads = _options.Threads > 0 ? _options.Threads : Environment.ProcessorCount;
        Parallel.For(0, classDirs.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, g =>
        {
            try
            {
                var files = classDirs[g]
                    .SelectMany(dir => DirectoryWalk.Files(dir.FullName, skipHidden: true))
                    .Where(f => !IsHidden(Path.GetFileName(f.FullPath)))
                    .Select(f => (Id: Path.GetRelativePath(_root, f.FullPath).Replace(Path.DirectorySeparatorChar, '/'), f.Size))
                    .Where(e => _exclude.IsEmpty || !_exclude.Matches(e.Id))
                    .ToList();
                found[g] = [.. files.Where(f => ImageExtensions.Contains(Path.GetExtension(f.Id)))];
                unread[g] = [.. files.Select(f => Path.GetExtension(f.Id)).Where(UnreadImageExtensions.Contains)];
            }
            catch (Exception e)
            {
                errors[g] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }
        var items = new List<SourceItem>();
        var classNames = new List<string>();
        var empty = new List<string>();
        for (var g = 0; g < classDirs.Count; g++)
        {
            if (found[g].Length == 0)
            {
                // As HuggingFace's imagefolder does, a folder without images is no class (torchvision refuses it); the run
                // says so, since another split's folder with images would then have one class more.
                empty.Add(classDirs[g].Key);
                continue;
            }
            var classIndex = classNames.Count;
            classNames.Add(classDirs[g].Key);
            foreach (var (id, size) in found[g])
            {
                items.Add(new SourceItem(id, classIndex, size));
            }
        }
        if (items.Count == 0)
        {
            throw ZetaPrepException.Usage($"{_options.OptionName} {_root}: no images found; expected one sub-folder per class ({_options.ClassDepth} level(s) down) holding {string.Join('/', ImageExtensions.Order(StringComparer.Ordinal))} files.");
        }
        if (classNames.Count < 2)
        {
            throw ZetaPrepException.Usage($"{_options.OptionName} {_root}: only one class folder ('{classNames[0]}') holds images; an ImageFolder needs one sub-folder per class and at least two classes.");
        }
        items.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        var passedOver = new List<string>();
        var formats = unread.SelectMany(e => e).GroupBy(e => e.ToLowerInvariant(), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (formats.Count > 0)
        {
            passedOver.Add(string.Create(CultureInfo.InvariantCulture,
                $"{formats.Sum(g => g.Count())} file(s) in formats ZetaPrep does not read ({string.Join(", ", formats.Select(g => $"{g.Count()} {g.Key}"))}; convert them to PNG to include them)"));
        }
        if (loose.Count > 0)
        {
            loose.Sort(StringComparer.Ordinal);
            passedOver.Add(string.Create(CultureInfo.InvariantCulture,
                $"{loose.Count} image(s) outside the class folders, so in no class ({string.Join(", ", loose.Take(3))}{(loose.Count > 3 ? ", …" : "")})"));
        }
        return Task.FromResult(new SourceListing(classNames, items) { EmptyClassFolders = empty, UnmatchedExcludes = _exclude.Unmatched, PassedOver = passedOver });
    }

    public async Task<byte[]> ReadAsync(SourceItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var path = Path.Combine(_root, item.Id);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DirectoryWalk.CannotRead(path, e);
        }
    }

    public ValueTask<PooledBytes> ReadPooledAsync(SourceItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        var path = Path.Combine(_root, item.Id);
        try
        {
            return ValueTask.FromResult(PooledBytes.ReadFile(path, item.Size));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DirectoryWalk.CannotRead(path, e);
        }
    }

    private static bool IsHidden(string name) => name.StartsWith('.');
}
