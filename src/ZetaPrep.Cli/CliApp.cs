using System.CommandLine;

namespace ZetaPrep.Cli;

/// <summary>The zetaprep command tree; parse errors and user errors become one line on stderr and an exit code.</summary>
internal static class CliApp
{
    public const int UsageExitCode = 2;

    /// <summary>128 + SIGINT, the shell convention for a run stopped by Ctrl+C.</summary>
    public const int InterruptedExitCode = 130;

    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("ZetaPrep: offline ζ-mixup dataset generation (Abhishek, Brown, Hamarneh, MIDL 2023) into Parquet shards, WebDataset tars or image folders.");
        root.Subcommands.Add(GenerateCommand.Create(stdout, stderr));
        root.Subcommands.Add(InfoCommand.Create(stdout));
        root.Subcommands.Add(MergeCommand.Create(stdout));
        root.Subcommands.Add(TrainCommand.Create(stdout, stderr));
        root.Subcommands.Add(EvaluateCommand.Create(stdout));
        root.Subcommands.Add(DatasetsCommand.Create(stdout));
        root.Subcommands.Add(VerifyCommand.Create(stdout));
        root.Subcommands.Add(InspectCommand.Create(stdout));
        root.Subcommands.Add(PreviewCommand.Create(stdout, stderr));
        root.Subcommands.Add(AnalyzeCommand.Create(stdout));
        root.Subcommands.Add(CompareCommand.Create(stdout, stderr));
        NumericOptions.Install(root);
        TextArguments.Install(root);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var root = Build(stdout, stderr);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"zetaprep: error: {OneLine(Reworded(error))} (see {string.Join(' ', ["zetaprep", .. CommandPath(parse), "--help"])})").ConfigureAwait(false);
            }
            return UsageExitCode;
        }
        // Ctrl+C/SIGINT/SIGTERM cancel the action's token; generate then discards the shard in flight and prints how to
        // resume. The default 2 s grace would end the process before a large in-flight batch has drained.
        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
        };
        try
        {
            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (ZetaPrepException e)
        {
            await stderr.WriteLineAsync($"zetaprep: error: {OneLine(e.Message)}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync($"zetaprep: cancelled{CancelledNote(parse)}").ConfigureAwait(false);
            return InterruptedExitCode;
        }
    }

    /// <summary>
    /// A parse error in ZetaPrep's words where System.CommandLine's reads wrong: a single-value option given twice is
    /// "expects a single argument but 2 were provided", as if two values followed one flag; and a value outside an
    /// option's choices ("Argument 'vgg' not recognized. Must be one of: …") is named with its option.
    /// </summary>
    private static string Reworded(System.CommandLine.Parsing.ParseError error)
    {
        if (error.SymbolResult is System.CommandLine.Parsing.OptionResult { Option.Arity.MaximumNumberOfValues: 1, Tokens.Count: > 1 } twice
            && twice.IdentifierTokenCount > 1)
        {
            return $"{twice.Option.Name} given {twice.IdentifierTokenCount} times ({string.Join(", ", twice.Tokens.Select(t => t.Value))}); give it once.";
        }
        var option = error.SymbolResult as System.CommandLine.Parsing.OptionResult
            ?? (error.SymbolResult as System.CommandLine.Parsing.ArgumentResult)?.Parent as System.CommandLine.Parsing.OptionResult;
        return option is not null && !error.Message.Contains(option.Option.Name, StringComparison.Ordinal)
            ? $"{option.Option.Name}: {error.Message}"
            : error.Message;
    }

    /// <summary>What an interrupted command leaves behind and how to go on, after "cancelled".</summary>
    private static string CancelledNote(ParseResult parse) => parse.CommandResult.Command.Name switch
    {
        "generate" => "; shards already written are complete and listed in manifest.json.",
        "train" => TrainCancelledNote(parse.GetValue<string>("--out")),
        "compare" => "; finished runs and the last finished epoch of the current one are kept; rerun the same compare to continue.",
        _ => ".",
    };

    /// <summary>
    /// What a cancelled train leaves: the epoch last.json names (this run's or an earlier one's, which --resume continues),
    /// or nothing, when no epoch had been saved (a fresh run then removes the run directory it made).
    /// </summary>
    internal static string TrainCancelledNote(string? output)
    {
        try
        {
            return (output is null ? null : ZetaPrep.Training.Trainer.SavedEpoch(output)) is { } epoch
                ? $"; epoch {epoch}'s checkpoint is kept in {output}; rerun with --resume to continue."
                : "; no epoch had finished, so no checkpoint was kept; rerun the same command to start again.";
        }
        catch (ZetaPrepException)
        {
            return $"; {output}'s last.json is unreadable, so --resume cannot continue from it; train into a new --out.";
        }
    }

    private static List<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (r.Command is not RootCommand)
            {
                names.Insert(0, r.Command.Name);
            }
        }
        return names;
    }

    private static string OneLine(string message) => Printable(string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>The most characters of a message printed: the start (what and where) and the end (what to do) are kept.</summary>
    internal const int MaxMessageChars = 2000;

    /// <summary>
    /// <paramref name="line"/> safe for a terminal and a log: other control characters (NUL, ESC, which could start an
    /// escape sequence, from a file name or a CSV value) shown as U+FFFD, and an overlong message (a 100 MB CSV value
    /// echoed in it) cut in the middle.
    /// </summary>
    internal static string Printable(string line)
    {
        var text = string.Create(line.Length, line, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '\uFFFD' : source[i];
            }
        });
        if (text.Length <= MaxMessageChars)
        {
            return text;
        }
        var omitted = text.Length - MaxMessageChars;
        return string.Concat(text.AsSpan(0, MaxMessageChars / 2), string.Create(System.Globalization.CultureInfo.InvariantCulture, $" … ({omitted:N0} characters left out) … "), text.AsSpan(text.Length - (MaxMessageChars / 2)));
    }
}
