using System.CommandLine;
using System.Globalization;
using ZetaPrep.Mixing;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep evaluate`: recomputes a checkpoint's validation metrics.</summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Option<string>("--model") { Description = "A checkpoint written by 'zetaprep train' (e.g. RUN/best.pt); RUN/config.json supplies arch, classes and size.", Required = true };
        var val = new Option<string>("--val") { Description = "Validation images: an ImageFolder directory or an unmixed shard directory.", Required = true };
        var arch = new Option<string?>("--arch") { Description = "resnet18 or resnet50 (default: from config.json beside the model)." };
        arch.AcceptOnlyFromAmong("resnet18", "resnet50");
        var size = new Option<int?>("--size") { Description = "Image side, 8 to 4096 (default: from config.json beside the model)." }.Within(8, 4096);
        var batchSize = new Option<int>("--batch-size") { Description = "Images per forward pass.", DefaultValueFactory = _ => 64 }.Within(1, int.MaxValue);
        var device = new Option<string>("--device") { Description = "auto (CUDA when available), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var json = new Option<bool>("--json") { Description = "Print the metrics as one JSON object." };

        var command = new Command("evaluate", "Compute loss, accuracy, balanced accuracy, micro/macro-F1 and the confusion matrix of a trained model.")
        {
            model, val, arch, size, batchSize, device, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var archText = parse.GetValue(arch);
            ModelEvaluation.CheckOptions(parse.GetValue(size), parse.GetValue(batchSize));
            var validation = await ValidationInput.OpenAsync(parse.GetValue(val)!, ct).ConfigureAwait(false);
            var result = await ModelEvaluation.RunAsync(
                parse.GetValue(model)!,
                validation,
                archText is null ? null : Enum.Parse<TrainArchitecture>(archText, ignoreCase: true),
                parse.GetValue(size),
                Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
                parse.GetValue(batchSize),
                ct).ConfigureAwait(false);
            var m = result.Metrics;
            if (parse.GetValue(json))
            {
                var payload = new Dictionary<string, object>
                {
                    ["images"] = result.Images,
                    ["val_loss"] = result.Loss,
                    ["val_accuracy"] = m.Accuracy,
                    ["val_balanced_accuracy"] = m.BalancedAccuracy,
                    ["val_f1_micro"] = m.F1Micro,
                    ["val_f1_macro"] = m.F1Macro,
                    ["val_confusion"] = m.Confusion,
                };
                await stdout.WriteLineAsync(CliJsonContext.Serialize(payload)).ConfigureAwait(false);
                return 0;
            }

            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"images {result.Images}\nloss {result.Loss:F4}\naccuracy {m.Accuracy:F4} (= micro-F1 for single-label data)\nbalanced accuracy {m.BalancedAccuracy:F4}\nmacro-F1 {m.F1Macro:F4}")).ConfigureAwait(false);
            await stdout.WriteLineAsync("confusion (rows = true class, columns = predicted):").ConfigureAwait(false);
            foreach (var row in m.Confusion)
            {
                await stdout.WriteLineAsync(string.Join(' ', row.Select(v => v.ToString(CultureInfo.InvariantCulture)))).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
