using ZetaPrep.Manifests;

namespace ZetaPrep.Sources;

/// <summary>Turns <see cref="SourceOptions"/> into a source: preset name → data-dir folder, a folder of official downloads
/// (detected by its file names), a labelled CSV, or an ImageFolder. Shared by `generate` and the trainer's validation input.</summary>
public static class SourceResolver
{
    public const string DataEnvironmentVariable = "ZETAPREP_DATA";

    public const string DownloadPage = "https://challenge.isic-archive.com/data/";

    public static IReadOnlyList<string> Splits { get; } = ["train", "validation", "test"];

    /// <summary>`--data-dir`, else $ZETAPREP_DATA, else ./data — as a full path.</summary>
    public static string DataDirectory(string? option)
    {
        var env = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        return Path.GetFullPath(option ?? (string.IsNullOrEmpty(env) ? "data" : env));
    }

    public static IImageSource Resolve(SourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Splits.Contains(options.Split, StringComparer.Ordinal))
        {
            throw ZetaPrepException.Usage($"--split {options.Split}: expected one of {string.Join(", ", Splits)}.");
        }
        // Checked before the input is looked at: a bad --class-depth is named even when --in is missing or a preset.
        var folderOptions = new ImageFolderOptions(options.ClassDepth, options.Exclude) { Threads = options.Threads };
        folderOptions.Validate();
        var exclude = new PathGlob(options.Exclude);
        if (options.Labels is not null)
        {
            RefuseClassDepth(options, $"--labels {options.Labels} gives the classes");
            RefuseDataDirectory(options, $"--in {options.Input} is read with --labels");
            return Labelled(options, exclude);
        }
        if (options.IdColumn is not null || options.LabelColumn is not null)
        {
            throw ZetaPrepException.Usage("--id-column/--label-column: only meaningful with --labels FILE; add --labels.");
        }
        var input = options.Input;
        if (DatasetPresets.Find(input) is { } named && input.IndexOfAny(['/', '\\']) < 0)
        {
            RefuseClassDepth(options, $"the {named.Name} preset's label file gives the classes");
            return Preset(named, Path.Combine(DataDirectory(options.DataDirectory), named.Name), options, exclude);
        }
        if (Directory.Exists(input))
        {
            RefuseExtractedDownloads(input);
            var detected = DetectAll(input).Where(p => !IsImageFolderBesideALabelFile(input, p)).ToList();
            if (detected.Count > 1)
            {
                throw ZetaPrepException.Usage($"--in {input}: holds official files of {string.Join(" and ", detected.Select(p => p.Name))}; put each dataset's downloads in a folder of its own, DATA-DIR/{detected[0].Name}/ and so on, and pass its name: --in {detected[0].Name} --data-dir DATA-DIR.");
            }
            if (detected.Count == 1)
            {
                RefuseClassDepth(options, $"it holds the official {detected[0].Name} downloads, whose label file gives the classes");
                RefuseDataDirectory(options, $"--in {input} is the folder of {detected[0].Name} downloads itself");
                return Preset(detected[0], input, options, exclude);
            }
        }
        if (options.ExcludeDuplicates)
        {
            throw ZetaPrepException.Usage($"--exclude-duplicates: only for presets that publish duplicates (isic2020); --in {input} is not one.");
        }
        if (File.Exists(input) && input.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            throw ZetaPrepException.Usage($"--in {input}: a zip of images needs its labels: add --labels FILE --id-column C (and --label-column C for a class-name column); for an official download give the folder holding the zips.");
        }
        if (!Directory.Exists(input) && !File.Exists(input))
        {
            throw ZetaPrepException.Usage($"--in {input}: not found; give an ImageFolder directory, a folder of official downloads, or a preset name ({string.Join(", ", DatasetPresets.All.Select(p => p.Name))}).");
        }
        RefuseDataDirectory(options, $"--in {input} is an ImageFolder");
        return new ImageFolderSource(input, folderOptions);
    }

    /// <summary>--data-dir says where preset folders live; with an --in that is not a preset name it would be ignored
    /// without a word (QA), so it is refused, as --split and --class-depth are where they do not apply.</summary>
    private static void RefuseDataDirectory(SourceOptions options, string why)
    {
        if (options.DataDirectory is not null)
        {
            throw ZetaPrepException.Usage($"--data-dir {options.DataDirectory}: only for a preset name as --in (e.g. --in isic2017), but {why}; drop --data-dir.");
        }
    }

    /// <summary>--class-depth places an ImageFolder's class folders; for an input whose classes come from a label file
    /// (<paramref name="why"/>) it would be ignored without a word, so a depth other than the default is refused.</summary>
    private static void RefuseClassDepth(SourceOptions options, string why)
    {
        if (options.ClassDepth != 1)
        {
            throw ZetaPrepException.Usage($"--class-depth {options.ClassDepth}: only for an ImageFolder --in (class folders below it), but {why}; drop --class-depth.");
        }
    }

    /// <summary>
    /// The source a manifest's input section describes, opened again as `generate` opened it: the same preset folder and
    /// split, the same zip or folder with its label file and columns, or the ImageFolder. Nothing is listed or read yet.
    /// </summary>
    /// <remarks>
    /// An ImageFolder's class depth and excludes are not recorded: its items are read by id (the path below the folder)
    /// without listing it. A manifest written before the label file of a `--labels` input was recorded cannot be
    /// reopened: that is a user error saying so.
    /// </remarks>
    public static IImageSource Reopen(InputInfo input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var options = new SourceOptions
        {
            Input = input.Source,
            Split = input.Split ?? "train",
            Labels = input.Labels,
            IdColumn = input.IdColumn,
            LabelColumn = input.LabelColumn,
            Exclude = input.Exclude ?? [],
            ExcludeDuplicates = input.ExcludeDuplicates ?? false,
        };
        var exclude = new PathGlob(options.Exclude);
        if (input.Preset is { } name)
        {
            var preset = DatasetPresets.Find(name)
                ?? throw new ZetaPrepException($"input preset {name}: not known to this zetaprep (it knows {string.Join(", ", DatasetPresets.All.Select(p => p.Name))}).");
            return Preset(preset, input.Source, options, exclude);
        }
        if (input.Labels is not null)
        {
            return Labelled(options, exclude);
        }
        if (input.Files is { Count: > 0 } || File.Exists(input.Source))
        {
            // Only labelled and preset sources record input files; an ImageFolder is a directory.
            throw new ZetaPrepException($"input {input.Source}: the manifest does not record the label file and columns it was read with (written before they were recorded); regenerate the output to read its sources.");
        }
        return new ImageFolderSource(input.Source);
    }

    /// <summary>
    /// An ImageFolder that holds a copy of an official label file (none of the preset's zips, but class sub-folders): the
    /// user sorted the images into folders; reading it as the download, which it is not, would only fail on missing zips.
    /// </summary>
    private static bool IsImageFolderBesideALabelFile(string directory, DatasetPreset preset) =>
        !preset.Splits.Values.SelectMany(s => s.RequiredFiles(withDuplicates: true))
            .Any(f => f.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(directory, f)))
        && Directory.EnumerateDirectories(directory).Any(d => !Path.GetFileName(d).StartsWith('.'));

    /// <summary>The presets some of whose official file names are found in <paramref name="directory"/>, most matches first.</summary>
    public static IReadOnlyList<DatasetPreset> DetectAll(string directory) =>
        [.. DatasetPresets.All
            .Select(p => (Preset: p, Found: p.Splits.Values.SelectMany(s => s.RequiredFiles(withDuplicates: true)).Distinct().Count(f => File.Exists(Path.Combine(directory, f)))))
            .Where(x => x.Found > 0)
            .OrderByDescending(x => x.Found)
            .Select(x => x.Preset)];

    /// <summary>
    /// An official zip unpacked in place (its folder, the zip gone: Safari unpacks downloads, and `unzip` is a habit) is
    /// not an ImageFolder: read as one, the archive folders became the classes and the label file was ignored (QA).
    /// The zips are what ZetaPrep reads, so it asks for them back.
    /// </summary>
    private static void RefuseExtractedDownloads(string directory)
    {
        var extracted = DatasetPresets.All
            .SelectMany(p => p.Splits.Values.SelectMany(s => s.RequiredFiles(withDuplicates: false)
                .Where(f => f.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) && !File.Exists(Path.Combine(directory, f)))
                .SelectMany(f => UnpackedFolders(directory, p, s, f).Take(1).Select(folder => (Preset: p, File: f, Folder: folder)))))
            .DistinctBy(x => (x.Preset.Name, x.File))
            .ToList();
        if (extracted.Count == 0)
        {
            return;
        }
        var folders = string.Join(", ", extracted.Take(3).Select(x => x.Folder + "/")) + (extracted.Count > 3 ? $" and {extracted.Count - 3} more" : "");
        var zips = string.Join(", ", extracted.Take(3).Select(x => x.File)) + (extracted.Count > 3 ? " …" : "");
        throw new ZetaPrepException($"--in {directory}: {folders} {(extracted.Count == 1 ? "is an" : "are")} unpacked official {string.Join("/", extracted.Select(x => x.Preset.Name).Distinct())} download{(extracted.Count == 1 ? "" : "s")}, which ZetaPrep does not read as an ImageFolder (the folders would become the classes); put {zips} there as downloaded (unextracted; the folders may stay) from {DownloadPage}.");
    }

    /// <summary>The folders in <paramref name="directory"/> that <paramref name="zip"/> may have been unpacked into: one named
    /// like the zip, and for an image zip the split's <see cref="PresetSplit.UnpackedFolders"/> where the split's label file
    /// lies beside them and they hold the images themselves, named by the preset's ids (a generic name like train/ alone is
    /// no sign of a download, nor is a train/ of class folders: an ImageFolder sorted beside the label file).</summary>
    private static IEnumerable<string> UnpackedFolders(string directory, DatasetPreset preset, PresetSplit split, string zip) =>
        new[] { zip[..^4] }.Where(f => Directory.Exists(Path.Combine(directory, f)))
            .Concat(split.Images.Contains(zip) && File.Exists(Path.Combine(directory, split.Labels.File))
                ? split.UnpackedFolders.Where(f => HoldsPresetImages(Path.Combine(directory, f), preset))
                : []);

    /// <summary>Whether <paramref name="folder"/> directly holds a file named by <paramref name="preset"/>'s id pattern (ISIC_0000000.jpg).</summary>
    private static bool HoldsPresetImages(string folder, DatasetPreset preset)
    {
        if (!Directory.Exists(folder) || preset.IdPattern is not { } pattern)
        {
            return false;
        }
        var id = DatasetPreset.IdMatcher(pattern);
        return Directory.EnumerateFiles(folder).Any(f => id.IsMatch(Path.GetFileNameWithoutExtension(f)));
    }

    private static LabelledImageSource Preset(DatasetPreset preset, string directory, SourceOptions options, PathGlob exclude)
    {
        directory = Path.GetFullPath(directory);
        if (!preset.Splits.TryGetValue(options.Split, out var split))
        {
            throw ZetaPrepException.Usage($"--split {options.Split}: {preset.Name} has no such split; it has {string.Join(", ", preset.Splits.Keys)}.");
        }
        if (options.ExcludeDuplicates && split.Duplicates is null)
        {
            throw ZetaPrepException.Usage($"--exclude-duplicates: {preset.Name} {options.Split} publishes no duplicates list; drop the option.");
        }
        var required = split.RequiredFiles(options.ExcludeDuplicates);
        var missing = required.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        if (missing.Count > 0)
        {
            throw new ZetaPrepException($"{preset.Name} {options.Split}: missing {string.Join(", ", missing)} in {directory}; download the official files from {DownloadPage} and put them there as downloaded (unextracted), or point --data-dir/${DataEnvironmentVariable} at the folder holding {preset.Name}/.");
        }
        var excludedIds = options.ExcludeDuplicates ? DuplicateList.Read(Path.Combine(directory, split.Duplicates!)) : new HashSet<string>();
        return new LabelledImageSource(new LabelledSourceSetup
        {
            Description = directory,
            Images = split.Images.Select(f => Path.Combine(directory, f)).ToList(),
            LabelFile = Path.Combine(directory, split.Labels.File),
            Labels = split.Labels,
            Classes = preset.Classes,
            IdPattern = preset.IdPattern,
            Exclude = exclude,
            ExcludeGlobs = options.Exclude,
            ExcludedIds = excludedIds,
            ExcludesDuplicates = options.ExcludeDuplicates,
            Preset = preset.Name,
            Split = options.Split,
            ProvenanceFiles = required.Select(f => Path.Combine(directory, f)).ToList(),
        });
    }

    private static LabelledImageSource Labelled(SourceOptions options, PathGlob exclude)
    {
        var labels = Path.GetFullPath(options.Labels!);
        if (!File.Exists(labels))
        {
            throw ZetaPrepException.Usage($"--labels {labels}: file not found; give the label CSV.");
        }
        if (options.IdColumn is null)
        {
            throw ZetaPrepException.Usage("--labels: needs --id-column C naming the column that holds image ids (file names, with or without extension).");
        }
        if (options.ExcludeDuplicates)
        {
            throw ZetaPrepException.Usage("--exclude-duplicates: only for presets that publish duplicates (isic2020), not with --labels.");
        }
        var input = Path.GetFullPath(options.Input);
        var isZip = File.Exists(input) && input.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);
        if (!isZip && !Directory.Exists(input))
        {
            throw ZetaPrepException.Usage($"--in {input}: not found; with --labels give a folder or a .zip of images.");
        }
        return new LabelledImageSource(new LabelledSourceSetup
        {
            Description = input,
            Images = [input],
            LabelFile = labels,
            Labels = new LabelSpec
            {
                File = Path.GetFileName(labels),
                IdColumn = options.IdColumn,
                Style = options.LabelColumn is null ? LabelStyle.OneHot : LabelStyle.Class,
                LabelColumn = options.LabelColumn,
                // Without a class column, the other columns may be one-hot or probabilities: both are valid soft labels.
                Soft = options.LabelColumn is null,
            },
            Exclude = exclude,
            ExcludeGlobs = options.Exclude,
            ProvenanceFiles = isZip ? [input, labels] : [labels],
        });
    }
}
