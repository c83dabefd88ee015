using System.Runtime.CompilerServices;

namespace ZetaPrep.Training.Tests;

/// <summary>The in-memory validation set: chunked storage (one array caps at 2 GiB) that evaluates exactly like one block.</summary>
public sealed class ValidationSetTests
{
    private sealed class NumberedImages(int count, int classes) : IValidationSource
    {
        public string Description => "numbered";

        public Task<IReadOnlyList<string>> ReadClassNamesAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>([.. Enumerable.Range(0, classes).Select(c => $"c{c}")]);

        public async IAsyncEnumerable<LabelledImage> ReadImagesAsync(int size, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var i = 0; i < count; i++)
            {
                await Task.Yield();
                var rgb = new byte[size * size * 3];
                for (var p = 0; p < rgb.Length; p++)
                {
                    rgb[p] = (byte)(i * 31 + p * 7);
                }

                yield return new LabelledImage(rgb, i % classes);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(64)]
    public async Task LoadAsync_SplitsPixelsIntoChunks_AndCopiesAnyRangeBack(int imagesPerChunk)
    {
        const int size = 8;
        var source = new NumberedImages(11, 3);
        var set = await ValidationSet.LoadAsync(source, size, imagesPerChunk * size * size * 3, CancellationToken.None);
        Assert.Equal(11, set.Count);
        Assert.Equal(Enumerable.Range(0, 11).Select(i => i % 3), set.Labels);

        var expected = new List<byte[]>();
        await foreach (var image in source.ReadImagesAsync(size, CancellationToken.None))
        {
            expected.Add(image.Rgb);
        }

        for (var start = 0; start < 11; start++)
        {
            for (var count = 1; start + count <= 11; count++)
            {
                var copy = new byte[count * set.BytesPerImage];
                set.CopyImages(start, count, copy);
                Assert.Equal(expected.Skip(start).Take(count).SelectMany(b => b), copy);
            }
        }
    }

    [Fact]
    public async Task Evaluate_OnAChunkedSet_GivesTheSameNumbersAsOnOneChunk()
    {
        const int size = 16;
        var source = new NumberedImages(7, 3);
        var whole = await ValidationSet.LoadAsync(source, size, CancellationToken.None);
        var chunked = await ValidationSet.LoadAsync(source, size, 2 * size * size * 3, CancellationToken.None);
        // Seeded through ModelFactory, under its lock: a bare manual_seed here moved a training test's weights running beside it.
        using var model = ModelFactory.Create(TrainArchitecture.ResNet18, 3, seed: 3);
        var a = Evaluator.Evaluate(model, whole, TorchSharp.torch.CPU, 4, CancellationToken.None);
        var b = Evaluator.Evaluate(model, chunked, TorchSharp.torch.CPU, 4, CancellationToken.None);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.Metrics.Confusion, b.Metrics.Confusion);
    }
}
