using static TorchSharp.torch;

namespace ZetaPrep.Training.Tests;

public sealed class TrainingStepTests
{
    [Fact]
    public void FewSteps_OnTinySyntheticData_ReduceTheLoss()
    {
        // Seeded through ModelFactory, under its lock: a bare manual_seed here moved a training test's weights running beside it.
        using var model = ModelFactory.Create(TrainArchitecture.ResNet18, 2, seed: 0);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        const int n = 8;
        const int size = 16;
        var pixels = new byte[n * size * size * 3];
        var labels = new float[n * 2];
        var random = new Random(1);
        for (int i = 0; i < n; i++)
        {
            var cls = i % 2;
            for (int p = 0; p < size * size; p++)
            {
                // Class 0 reddish, class 1 bluish, with noise; soft labels 0.8/0.2 like a ζ-mixed row.
                pixels[(i * size * size + p) * 3 + (cls == 0 ? 0 : 2)] = (byte)(180 + random.Next(60));
                pixels[(i * size * size + p) * 3 + 1] = (byte)random.Next(80);
            }

            labels[i * 2 + cls] = 0.8f;
            labels[i * 2 + 1 - cls] = 0.2f;
        }

        using var input = ImageTensors.ToInput(pixels, n, size, CPU);
        using var target = tensor(labels, [n, 2]);
        model.train();
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = SoftCrossEntropy.Compute(model.call(input), target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        // The soft targets (0.8, 0.2) bound the loss below by their entropy; train-mode BatchNorm on 8 images makes
        // single steps noisy, so compare the excess over that bound at the end (mean of five) with the start (worst of three).
        var floor = -(0.8 * Math.Log(0.8) + 0.2 * Math.Log(0.2));
        var start = losses.Take(3).Max() - floor;
        var end = losses.TakeLast(5).Average() - floor;
        Assert.True(end < 0.5 * start && end < 0.05, string.Join(", ", losses));
    }

    [Fact]
    public void Augmenter_KeepsAConstantImageConstantInside_AndIsSeeded()
    {
        const int size = 20;
        var source = Enumerable.Repeat((byte)200, size * size * 3).ToArray();
        var a = new byte[source.Length];
        var b = new byte[source.Length];
        ImageAugmenter.Apply(source, a, size, new Random(5));
        ImageAugmenter.Apply(source, b, size, new Random(5));
        Assert.Equal(a, b);

        // The centre never leaves the image under a ≥60 % crop and ±10° rotation.
        var centre = (size / 2 * size + size / 2) * 3;
        Assert.Equal(200, a[centre]);
    }
}
