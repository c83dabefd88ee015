using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>Runs a classifier over a <see cref="ValidationSet"/> in batches.</summary>
internal static class Evaluator
{
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, ValidationSet set, Device device, int batchSize, CancellationToken cancellationToken)
    {
        var k = set.ClassNames.Count;
        var confusion = new long[k][];
        for (var i = 0; i < k; i++)
        {
            confusion[i] = new long[k];
        }

        var perImage = set.Size * set.Size * 3;
        double lossSum = 0;
        model.eval();
        using (no_grad())
        {
            for (var start = 0; start < set.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var count = Math.Min(batchSize, set.Count - start);
                var pixels = set.Pixels.AsSpan(start * perImage, count * perImage).ToArray();
                var input = ImageTensors.ToInput(pixels, count, set.Size, device);
                var labels = tensor(set.Labels.AsSpan(start, count).ToArray().Select(l => (long)l).ToArray(), dtype: ScalarType.Int64).to(device);
                var logits = model.call(input);
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).cpu().item<float>();
                var predicted = logits.argmax(1).cpu().data<long>().ToArray();
                for (var i = 0; i < count; i++)
                {
                    confusion[set.Labels[start + i]][predicted[i]]++;
                }
            }
        }

        return new EvaluationResult(lossSum / set.Count, ClassificationMetrics.FromConfusion(confusion), set.Count);
    }
}
