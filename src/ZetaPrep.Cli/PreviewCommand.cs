using System.CommandLine;
using System.Globalization;
using ZetaPrep.Inspection;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep preview OUT --rows 16 --out sheet.png`: a contact sheet of mixed samples with top-3 labels, weights and one sample's sources.</summary>
internal static class PreviewCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var directory = new Argument<string>("OUT") { Description = "A ZetaPrep output directory (holds manifest.json)." };
        var rows = new Option<int>("--rows") { Description = "How many rows (the first ones) to show as tiles, 1 to 1024.", DefaultValueFactory = _ => 16 }.Within(1, 1024);
        var output = new Option<string>("--out") { Description = "PNG file to write (its name must end in .png).", DefaultValueFactory = _ => "sheet.png" };
        var command = new Command("preview", "Draw a contact sheet (PNG) of mixed images with their top-3 labels and weights, plus the source thumbnails of one sample.")
        {
            directory, rows, output,
        };
        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(rows);
            if (count is < 1 or > 1024)
            {
                throw ZetaPrepException.Usage($"--rows: must be between 1 and 1024 (got {count}).");
            }
            var path = Path.GetFullPath(parse.GetValue(output)!);
            // The sheet is PNG bytes: a .jpg name would hold a PNG that viewers and tools take for a broken JPEG.
            if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw ZetaPrepException.Usage($"--out {parse.GetValue(output)}: preview writes a PNG; give a file name ending in .png.");
            }
            var result = await ContactSheet.WriteAsync(parse.GetValue(directory)!, count, path, ct).ConfigureAwait(false);
            foreach (var note in result.Notes)
            {
                await stderr.WriteLineAsync("zetaprep: note: " + note).ConfigureAwait(false);
            }
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wrote {path} ({result.Width}×{result.Height})")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
