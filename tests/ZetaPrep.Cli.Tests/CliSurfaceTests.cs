using System.Diagnostics;

namespace ZetaPrep.Cli.Tests;

public sealed class CliSurfaceTests
{
    [Fact]
    public async Task GenerateHelp_ListsEveryOption_WithItsDefault()
    {
        var r = await CliRunner.RunAsync("generate", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var (option, def) in new[]
        {
            ("--n", "8"), ("--gamma", "2.8"), ("--batch-size", "64"), ("--passes", "1"), ("--seed", "0"),
            ("--shard-rows", "1000"), ("--size", "224"), ("--resize", "crop"), ("--device", "auto"), ("--max-pixels", "100000000"), ("--format", "parquet"),
            ("--codec", "auto"), ("--png-level", "1"),
        })
        {
            var line = r.Stdout.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
            Assert.NotNull(line);
            Assert.Contains($"[default: {def}]", r.Stdout[r.Stdout.IndexOf(line, StringComparison.Ordinal)..], StringComparison.Ordinal);
        }
        Assert.Contains("--in", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--out", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--threads", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOptionGivenTwice_SaysSo_NotThatOneFlagGotTwoValues()
    {
        var r = await CliRunner.RunAsync("generate", "--in", "x", "--out", "y", "--batch-size", "32", "--batch-size", "16");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("zetaprep: error: --batch-size given 2 times (32, 16); give it once. (see zetaprep generate --help)", r.Stderr.Trim());
    }

    [Fact]
    public async Task RootHelp_ListsTheVerbs()
    {
        var r = await CliRunner.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("generate", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("info", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("verify", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("inspect", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("preview", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train", "outputs of 'zetaprep generate' in any --format")]
    [InlineData("analyze", "output directory (any --format)")]
    public async Task Help_OfTheReaders_SaysTheyTakeEveryOutputFormat(string command, string says)
    {
        var r = await CliRunner.RunAsync(command, "--help");
        Assert.Equal(0, r.ExitCode);
        // They said they read DIR/data/*.parquet: WebDataset and folder outputs have no data/.
        Assert.DoesNotContain("data/*.parquet", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(says, r.Stdout.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_SaysWhereDownloadsHashesAreCached()
    {
        var r = await CliRunner.RunAsync("info");
        Assert.Equal(0, r.ExitCode);
        // The test assembly points ZETAPREP_CACHE_DIR at a temporary folder (CacheTestSetup).
        Assert.Contains($"file-hash cache: {Environment.GetEnvironmentVariable("ZETAPREP_CACHE_DIR")} (", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerb_IsAUsageError()
    {
        var r = await CliRunner.RunAsync("frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("zetaprep: error:", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuiltExecutable_LoadsTorch_InAFreshProcess()
    {
        // The apphost built beside this test (the same files `make publish` ships) must load libtorch on this OS.
        var exe = Path.Combine(AppContext.BaseDirectory, "zetaprep");
        Assert.True(File.Exists(exe), exe);
        var psi = new ProcessStartInfo(exe, ["info"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var stdout = await stdoutTask;
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Contains("libtorch 2.10", stdout, StringComparison.Ordinal);
        Assert.Contains("γ_min = 1.72865", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorLines_ShowControlCharactersAsReplacements_AndKeepBothEndsOfAnOverlongMessage()
    {
        Assert.Equal("a\uFFFD[31mred\uFFFDb", CliApp.Printable("a\u001b[31mred\0b"));
        var message = "labels.csv line 3: label '" + new string('x', 100_000) + "' is not a class; fix the row.";
        var shown = CliApp.Printable(message);
        var gap = $" … ({message.Length - CliApp.MaxMessageChars:N0} characters left out) … ";
        Assert.Equal(CliApp.MaxMessageChars + gap.Length, shown.Length);
        Assert.StartsWith("labels.csv line 3: label 'xxx", shown, StringComparison.Ordinal);
        Assert.EndsWith("xxx' is not a class; fix the row.", shown, StringComparison.Ordinal);
        Assert.Contains(gap, shown, StringComparison.Ordinal);
    }

    /// <summary>--split picks a preset's split; an ImageFolder or a --labels input has none, and the option was once ignored.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Split_OfAnInputWithoutSplits_IsAUsageError_UnlessLeftAtItsDefault(bool labelled)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        string[] source = ["--in", input];
        if (labelled)
        {
            Directory.CreateDirectory(input);
            for (var i = 0; i < 4; i++)
            {
                File.WriteAllBytes(Path.Combine(input, $"img{i}.png"), ImageFixtures.Solid(8, 8, (byte)(i * 60), 0, 0));
            }
            var csv = Path.Combine(tmp.Path, "labels.csv");
            File.WriteAllText(csv, "id,cls\nimg0,a\nimg1,b\nimg2,a\nimg3,b\n");
            source = [.. source, "--labels", csv, "--id-column", "id", "--label-column", "cls"];
        }
        else
        {
            ImageFixtures.SolidFolder(input, classes: 2, perClass: 2);
        }
        var r = await CliRunner.RunAsync(["generate", .. source, "--out", tmp.Sub("out"), "--size", "16", "--quiet", "--split", "validation"]);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("zetaprep: error: --split: only applies to a preset", line, StringComparison.Ordinal);
        Assert.Contains(labelled ? "a --labels input" : "an ImageFolder", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));

        var plain = await CliRunner.RunAsync(["generate", .. source, "--out", tmp.Sub("out"), "--size", "16", "--quiet"]);
        Assert.True(plain.ExitCode == 0, plain.Stderr);
    }

    /// <summary>--class-depth places an ImageFolder's class folders; where a label file gives the classes it was ignored without a word.</summary>
    [Fact]
    public async Task ClassDepth_OfAnInputWhoseClassesComeFromALabelFile_IsAUsageError()
    {
        using var tmp = new TempDir();
        var data = tmp.Sub("data");
        IsicFixtures.Write2017(Path.Combine(data, "isic2017"));
        var images = tmp.Sub("imgs");
        Directory.CreateDirectory(images);
        for (var i = 0; i < 4; i++)
        {
            File.WriteAllBytes(Path.Combine(images, $"img{i}.png"), ImageFixtures.Solid(8, 8, (byte)(i * 60), 0, 0));
        }
        var csv = tmp.Sub("labels.csv");
        File.WriteAllText(csv, "id,cls\nimg0,a\nimg1,b\nimg2,a\nimg3,b\n");
        (string[] Source, string Why)[] cases =
        [
            (["--in", "isic2017", "--data-dir", data], "the isic2017 preset's label file gives the classes"),
            (["--in", Path.Combine(data, "isic2017")], "it holds the official isic2017 downloads, whose label file gives the classes"),
            (["--in", images, "--labels", csv, "--id-column", "id", "--label-column", "cls"], $"--labels {csv} gives the classes"),
        ];
        foreach (var (source, why) in cases)
        {
            var r = await CliRunner.RunAsync(["generate", .. source, "--out", tmp.Sub("out"), "--size", "16", "--quiet", "--class-depth", "2"]);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"zetaprep: error: --class-depth 2: only for an ImageFolder --in (class folders below it), but {why}; drop --class-depth.", r.Stderr.Trim());
            Assert.False(Directory.Exists(tmp.Sub("out")));

            // The default depth, given or not, is no conflict.
            var plain = await CliRunner.RunAsync(["generate", .. source, "--out", tmp.Sub("out"), "--size", "16", "--quiet", "--class-depth", "1"]);
            Assert.True(plain.ExitCode == 0, plain.Stderr);
            Directory.Delete(tmp.Sub("out"), recursive: true);
        }
    }

    /// <summary>--data-dir says where preset folders live: with any other --in it was ignored without a word (QA).</summary>
    [Fact]
    public async Task DataDir_WithAnInputThatIsNoPresetName_IsAUsageError()
    {
        using var tmp = new TempDir();
        var data = tmp.Sub("data");
        IsicFixtures.Write2017(Path.Combine(data, "isic2017"));
        var folder = tmp.Sub("folder");
        ImageFixtures.SolidFolder(folder, 2, 2);
        var csv = tmp.Sub("labels.csv");
        File.WriteAllText(csv, "id,cls\nimg000,a\nimg001,b\n");
        (string[] Source, string Why)[] cases =
        [
            (["--in", folder], $"--in {folder} is an ImageFolder"),
            (["--in", Path.Combine(data, "isic2017")], $"--in {Path.Combine(data, "isic2017")} is the folder of isic2017 downloads itself"),
            (["--in", Path.Combine(folder, "class_a"), "--labels", csv, "--id-column", "id", "--label-column", "cls"], $"--in {Path.Combine(folder, "class_a")} is read with --labels"),
        ];
        foreach (var (source, why) in cases)
        {
            var r = await CliRunner.RunAsync(["generate", .. source, "--data-dir", data, "--out", tmp.Sub("out"), "--size", "16", "--quiet"]);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"zetaprep: error: --data-dir {data}: only for a preset name as --in (e.g. --in isic2017), but {why}; drop --data-dir.", r.Stderr.Trim());
            Assert.False(Directory.Exists(tmp.Sub("out")));
        }
        var preset = await CliRunner.RunAsync("generate", "--in", "isic2017", "--data-dir", data, "--out", tmp.Sub("out"), "--size", "16", "--quiet");
        Assert.True(preset.ExitCode == 0, preset.Stderr);
    }
}

public sealed class NumericOptionTests
{
    [Theory]
    [InlineData("--seed", "-1", "--seed: must be an integer from 0 to 18446744073709551615 (got '-1')")]
    [InlineData("--seed", "18446744073709551616", "--seed: must be an integer from 0 to 18446744073709551615 (got '18446744073709551616')")]
    [InlineData("--seed", "0x10", "--seed: must be an integer from 0 to 18446744073709551615 (got '0x10')")]
    [InlineData("--size", "abc", "--size: must be an integer from 1 to 8192 (got 'abc')")]
    [InlineData("--batch-size", "2.5", "--batch-size: must be an integer from 2 to 2147483647 (got '2.5')")]
    [InlineData("--png-level", "high", "--png-level: must be an integer from 0 to 9 (got 'high')")]
    [InlineData("--max-pixels", "1e6", "--max-pixels: must be an integer from 1 to 9223372036854775807 (got '1e6')")]
    [InlineData("--prob", "half", "--prob: must be a number from 0 to 1 (got 'half')")]
    [InlineData("--label-smoothing", "x", "--label-smoothing: must be a number from 0 up to but not including 1 (got 'x')")]
    [InlineData("--alpha", "0,2", "--alpha: must be a number above 0 (got '0,2')")]
    public async Task Generate_UnparsableNumber_IsOneLine_NamingTheOptionAndItsRange(string option, string value, string message)
    {
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"zetaprep: error: {message} (see zetaprep generate --help)\n", r.Stderr.ReplaceLineEndings("\n"));
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task EveryNumericOption_OfEveryCommand_NamesItselfAndItsRange_NotTheDotNetType()
    {
        var root = CliApp.Build(TextWriter.Null, TextWriter.Null);
        var checkedOptions = 0;
        foreach (var command in root.Subcommands)
        {
            foreach (var option in command.Options.Where(o => o.ValueType != typeof(bool) && (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType).IsPrimitive))
            {
                var r = await CliRunner.RunAsync(command.Name, option.Name, "not-a-number");
                Assert.Equal(2, r.ExitCode);
                var line = r.Stderr.Split('\n').SingleOrDefault(l => l.StartsWith($"zetaprep: error: {option.Name}: must be ", StringComparison.Ordinal));
                Assert.True(line is not null, $"{command.Name} {option.Name}: {r.Stderr}");
                // Every decimal option names its range too (Within), not only "a number".
                Assert.Matches(@"must be (an integer from -?\d+ to \d+|a number (from [\de.-]+ to [\d.]+|above 0|from 0 up to but not including 1|strictly between 0 and 1)) \(got 'not-a-number'\) \(see zetaprep ", line);
                Assert.DoesNotContain("System.", r.Stderr, StringComparison.Ordinal);
                checkedOptions++;
            }
        }
        // generate alone has 14 numeric options; the walk must have found them and those of the other commands.
        Assert.True(checkedOptions >= 30, $"only {checkedOptions} numeric options found");
    }

    [Theory]
    [InlineData("train", "--arch", "vgg", "'resnet18' 'resnet50'")]
    [InlineData("train", "--optimizer", "adam", "'sgd' 'adamw'")]
    [InlineData("train", "--augment", "flip", "'none' 'flip-crop'")]
    [InlineData("evaluate", "--device", "gpu", "'auto' 'cpu' 'cuda'")]
    [InlineData("analyze", "--device", "gpu", "'auto' 'cpu' 'cuda'")]
    [InlineData("compare", "--arch", "vgg", "'resnet18' 'resnet50'")]
    [InlineData("generate", "--format", "tar", "'parquet' 'webdataset' 'folder'")]
    public async Task A_value_outside_an_options_choices_names_the_option(string command, string option, string value, string choices)
    {
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync([command, .. RequiredArguments(CliApp.Build(TextWriter.Null, TextWriter.Null).Subcommands.Single(c => c.Name == command), tmp), option, value]);
        Assert.Equal(2, r.ExitCode);
        // System.CommandLine's own line was "Argument 'vgg' not recognized. Must be one of: …", naming no option.
        Assert.Equal($"zetaprep: error: {option}: Argument '{value}' not recognized. Must be one of: {choices} (see zetaprep {command} --help)", r.Stderr.Trim());
    }

    [Theory]
    [InlineData("verify", "--threads", "abc", "--threads: must be an integer from 1 to 4096 (got 'abc')")]
    [InlineData("verify", "--threads", "0", "--threads: must be an integer from 1 to 4096 (got 0).")]
    [InlineData("verify", "--threads", "99999", "--threads: must be an integer from 1 to 4096 (got 99999).")]
    [InlineData("analyze", "--k", "abc", "--k: must be an integer from 2 to 2147483647 (got 'abc')")]
    [InlineData("analyze", "--max-samples", "abc", "--max-samples: must be an integer from 3 to 2147483647 (got 'abc')")]
    [InlineData("analyze", "--size", "abc", "--size: must be an integer from 1 to 16384 (got 'abc')")]
    [InlineData("train", "--threads", "abc", "--threads: must be an integer from 1 to 4096 (got 'abc')")]
    [InlineData("train", "--threads", "4097", "--threads must be an integer from 1 to 4096 (got 4097).")]
    [InlineData("compare", "--threads", "4097", "--threads must be an integer from 1 to 4096 (got 4097).")]
    public async Task IntegerOption_OfVerifyAnalyzeTrainCompare_StatesItsRange_WithGeneratesThreadCap(string command, string option, string value, string message)
    {
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync([command, .. RequiredArguments(CliApp.Build(TextWriter.Null, TextWriter.Null).Subcommands.Single(c => c.Name == command), tmp), option, value]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"zetaprep: error: {message}", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("generate", "--class-depth", "0", "--class-depth 0: must be 1..16")]
    [InlineData("generate", "--class-depth", "17", "--class-depth 17: must be 1..16")]
    [InlineData("evaluate", "--size", "7", "--size must be between 8 and 4096 (got 7)")]
    [InlineData("evaluate", "--batch-size", "0", "--batch-size must be at least 1 (got 0)")]
    public async Task NumberOutOfRange_IsNamed_BeforeTheInputIsLookedAt(string command, string option, string value, string message)
    {
        // generate listed --in (and evaluate opened --val) first, so a missing input hid the bad number.
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync([command, .. RequiredArguments(CliApp.Build(TextWriter.Null, TextWriter.Null).Subcommands.Single(c => c.Name == command), tmp), option, value]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"zetaprep: error: {message}", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassDepthOutOfRange_IsRefused_WithAPresetInputToo()
    {
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync("generate", "--in", "isic2017", "--data-dir", tmp.Sub("data"), "--out", tmp.Sub("out"), "--class-depth", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("zetaprep: error: --class-depth 0: must be 1..16", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryIntegerOption_StatesItsRealRange_AndRefusesJustOutsideIt()
    {
        // The range a non-number's message gives must be the one the command enforces: not the .NET type's (verify --threads
        // said -2147483648 to 2147483647 while 0 was refused), and a value just outside it refused (exit 2, naming the option).
        var root = CliApp.Build(TextWriter.Null, TextWriter.Null);
        var checkedOptions = 0;
        var failures = new List<string>();
        foreach (var command in root.Subcommands)
        {
            foreach (var option in command.Options.Where(o => (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t && (t == typeof(int) || t == typeof(long))))
            {
                var unparsable = await CliRunner.RunAsync(command.Name, option.Name, "not-a-number");
                var range = System.Text.RegularExpressions.Regex.Match(unparsable.Stderr, $@"{option.Name}: must be an integer from (-?\d+) to (\d+) \(got 'not-a-number'\)");
                Assert.True(range.Success, $"{command.Name} {option.Name}: {unparsable.Stderr}");
                var (min, max) = (long.Parse(range.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(range.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
                if (min < 0)
                {
                    failures.Add($"{command.Name} {option.Name}: states the type's range, from {min} to {max}");
                    continue;
                }
                var typeMax = (Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType) == typeof(int) ? int.MaxValue : long.MaxValue;
                var outside = new List<decimal> { min - 1m };
                if (max < typeMax)
                {
                    outside.Add(max + 1m);
                }
                foreach (var value in outside)
                {
                    using var tmp = new TempDir();
                    var r = await CliRunner.RunAsync([command.Name, .. RequiredArguments(command, tmp), option.Name, value.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    if (!(r.ExitCode == 2 && r.Stderr.Contains(option.Name, StringComparison.Ordinal)) || Directory.EnumerateFileSystemEntries(tmp.Path).Any())
                    {
                        failures.Add($"{command.Name} {option.Name} {value} (stated range {min} to {max}): exit {r.ExitCode}, {r.Stderr.TrimEnd()}");
                    }
                }
                checkedOptions++;
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(checkedOptions >= 25, $"only {checkedOptions} integer options found");
    }

    /// <summary>Each argument and required option of <paramref name="command"/> given a path in <paramref name="tmp"/> that does not exist.</summary>
    private static IEnumerable<string> RequiredArguments(System.CommandLine.Command command, TempDir tmp) =>
        command.Arguments.Select(a => tmp.Sub(a.Name))
            .Concat(command.Options.Where(o => o.Required).SelectMany(o => new[] { o.Name, tmp.Sub(o.Name.TrimStart('-')) }));

    [Theory]
    [InlineData("train", "--seed", "-1")]
    [InlineData("analyze", "--seed", "18446744073709551616")]
    public async Task Seed_OfTrainAndAnalyze_GivesTheSameMessage(string command, string option, string value)
    {
        var r = await CliRunner.RunAsync(command, option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"zetaprep: error: --seed: must be an integer from 0 to 18446744073709551615 (got '{value}') (see zetaprep {command} --help)", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoArguments_PointsAtTheRootHelp_WithOneSpace()
    {
        var r = await CliRunner.RunAsync();
        Assert.Equal(2, r.ExitCode);
        Assert.EndsWith("(see zetaprep --help)", r.Stderr.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("  ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_NamesEveryShardFormat_NotParquetAlone()
    {
        foreach (var args in new[] { new[] { "--help" }, ["generate", "--help"] })
        {
            var r = await CliRunner.RunAsync(args);
            Assert.Equal(0, r.ExitCode);
            var description = string.Join(' ', r.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("Description:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0).Select(l => l.Trim()));
            Assert.Contains("Parquet", description, StringComparison.Ordinal);
            Assert.Contains("WebDataset", description, StringComparison.Ordinal);
            Assert.Contains("folder", description, StringComparison.Ordinal);
        }
    }
}
