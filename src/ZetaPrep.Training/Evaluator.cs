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

        var perImage = set.BytesPerImage;
        // A batch's pixels are one array: kept within a chunk's size (large --size × --batch-size would pass 2 GiB).
        batchSize = Math.Max(1, Math.Min(batchSize, ValidationSet.DefaultChunkBytes / perImage));
        double lossSum = 0;
        model.eval();
        using (no_grad())
        {
            for (var start = 0; start < set.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var count = Math.Min(batchSize, set.Count - start);
                var pixels = new byte[count * perImage];
                set.CopyImages(start, count, pixels);
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
