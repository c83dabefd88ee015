using ZetaPrep.Analysis;
using ZetaPrep.Mixing;
using ZetaPrep.Tests.Imaging;
using static TorchSharp.torch;

namespace ZetaPrep.Tests.Analysis;

public sealed class IntrinsicDimensionTests
{
    [Theory]
    [InlineData(2, 100)]
    [InlineData(5, 200)]
    [InlineData(10, 300)]
    public void Points_on_a_linear_subspace_give_exactly_its_dimension(int d, int ambient)
    {
        using var scope = NewDisposeScope();
        var points = OnSubspace(400, d, ambient, seed: d, noise: 0);
        int[] dims = IntrinsicDimension.LocalDimensions(points, k: 64, alphaFo: 0.05, CancellationToken.None);
        Assert.All(dims, x => Assert.Equal(d, x));
    }

    [Theory]
    [InlineData(2, 100)]
    [InlineData(5, 200)]
    [InlineData(10, 300)]
    public void Tiny_noise_off_the_subspace_does_not_add_dimensions(int d, int ambient)
    {
        using var scope = NewDisposeScope();
        var points = OnSubspace(400, d, ambient, seed: 100 + d, noise: 1e-3);
        int[] dims = IntrinsicDimension.LocalDimensions(points, k: 64, alphaFo: 0.05, CancellationToken.None);
        Assert.Equal(d, IntrinsicDimensionResult.Summarize(dims).Mean, 2);
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    public void Points_on_a_sphere_rotated_into_high_dimension_give_its_dimension(int d, int k)
    {
        // The unit d-sphere in R^(d+1), embedded in R^120 by a random orthonormal map: curved, so only small neighbourhoods look flat.
        using var scope = NewDisposeScope();
        var generator = new Generator(7 + (ulong)d);
        var onSphere = randn([1500, d + 1], dtype: ScalarType.Float64, generator: generator);
        onSphere = onSphere / onSphere.norm(1, keepdim: true);
        var points = onSphere.matmul(Orthonormal(d + 1, 120, generator));
        var mean = IntrinsicDimensionResult.Summarize(IntrinsicDimension.LocalDimensions(points, k, 0.05, CancellationToken.None)).Mean;
        Assert.InRange(mean, d - 0.25, d + 0.25);
    }

    [Fact]
    public void A_swiss_roll_in_high_dimension_is_two_dimensional()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var t = 1.5 * Math.PI * (1 + 2 * rand([2000], dtype: ScalarType.Float64, generator: generator));
        var height = 21 * rand([2000], dtype: ScalarType.Float64, generator: generator);
        var roll = stack([t * cos(t), height, t * sin(t)], 1);
        var points = roll.matmul(Orthonormal(3, 150, generator));
        var mean = IntrinsicDimensionResult.Summarize(IntrinsicDimension.LocalDimensions(points, 20, 0.05, CancellationToken.None)).Mean;
        Assert.InRange(mean, 1.75, 2.25);
    }

    [Fact]
    public void Gram_eigenvalues_equal_the_covariance_eigenvalues()
    {
        using var scope = NewDisposeScope();
        const int k = 8, d = 20;
        var neighbours = randn([3, k, d], dtype: ScalarType.Float64, generator: new Generator(3));
        var gram = IntrinsicDimension.NeighbourhoodEigenvalues(neighbours);
        for (int b = 0; b < 3; b++)
        {
            var y = neighbours[b] - neighbours[b].mean([0], keepdim: true);
            var covariance = y.t().matmul(y) / (k - 1);
            // The D×D covariance has rank ≤ k−1: its k largest eigenvalues are the Gram matrix's k (one of them ~0).
            var top = linalg.eigvalsh(covariance).narrow(0, d - k, k);
            Assert.True(allclose(gram[b], top, rtol: 1e-9, atol: 1e-10), $"{string.Join(", ", gram[b].data<double>().ToArray())} vs {string.Join(", ", top.data<double>().ToArray())}");
        }
    }

    [Fact]
    public void The_point_itself_is_excluded_by_index_so_a_duplicate_still_counts()
    {
        // X and its exact duplicate X' beside Y and Z, and F far away; k = 3.
        // Right (self excluded by index): X sees {X', Y, Z}, a triangle → 2. Including itself: {X, X', Y} → 1.
        // Excluding every point at distance 0 instead: {Y, Z, F}, dominated by F → 1.
        using var scope = NewDisposeScope();
        var points = tensor(new float[] { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 100 }, [5, 3]);
        int[] dims = IntrinsicDimension.LocalDimensions(points, k: 3, alphaFo: 0.05, CancellationToken.None);
        Assert.Equal([2, 2], dims[..2]);
    }

    [Fact]
    public void Same_seed_gives_the_same_subsample_and_result()
    {
        Assert.Equal(PixelSample.SampleIndices(1000, 100, 5), PixelSample.SampleIndices(1000, 100, 5));
        Assert.NotEqual(PixelSample.SampleIndices(1000, 100, 5), PixelSample.SampleIndices(1000, 100, 6));
        int[] sample = PixelSample.SampleIndices(1000, 100, 5);
        Assert.Equal(100, sample.Distinct().Count());
        Assert.All(sample, i => Assert.InRange(i, 0, 999));
        Assert.Equal(Enumerable.Range(0, 40), PixelSample.SampleIndices(40, 100, 5));
    }

    [Fact]
    public async Task Analyze_on_an_image_folder_is_deterministic_and_finds_two_dimensions()
    {
        // Every image is a·A + b·B for two fixed random patterns: a 2-dimensional family in pixel space (plus 8-bit rounding).
        var root = Directory.CreateTempSubdirectory("zetaprep-analyze-").FullName;
        try
        {
            TwoParameterFolder(root, count: 160, side: 12);
            var options = new IntrinsicDimensionOptions { K = 12, MaxSamples = 120, Size = 12, Seed = 3, Device = DeviceChoice.Cpu };
            var first = await IntrinsicDimension.AnalyzeAsync(root, options, CancellationToken.None);
            var second = await IntrinsicDimension.AnalyzeAsync(root, options, CancellationToken.None);
            Assert.Equal(("imagefolder", 160L, 120, 12, 432), (first.InputKind, first.Available, first.Samples, first.ImageSize, first.PixelDimension));
            Assert.Equal((first.Mean, first.Std), (second.Mean, second.Std));
            Assert.Equal(first.Histogram, second.Histogram);
            Assert.InRange(first.Mean, 1.9, 2.1);

            var other = await IntrinsicDimension.AnalyzeAsync(root, options with { Seed = 4 }, CancellationToken.None);
            Assert.Equal(120, other.Samples);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData(1, 0.05, "--k 1")]
    [InlineData(128, 0.0, "--alpha-fo 0")]
    [InlineData(128, 1.0, "--alpha-fo 1")]
    public void Bad_options_are_usage_errors(int k, double alpha, string named)
    {
        var e = Assert.Throws<ZetaPrepException>(() => new IntrinsicDimensionOptions { K = k, AlphaFo = alpha }.Validate());
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task K_not_below_the_sample_count_and_a_missing_path_are_usage_errors()
    {
        var root = Directory.CreateTempSubdirectory("zetaprep-analyze-").FullName;
        try
        {
            TwoParameterFolder(root, count: 10, side: 4);
            var e = await Assert.ThrowsAsync<ZetaPrepException>(() => IntrinsicDimension.AnalyzeAsync(root, new IntrinsicDimensionOptions { K = 10, Device = DeviceChoice.Cpu }, CancellationToken.None));
            Assert.Equal(2, e.ExitCode);
            Assert.Contains("--k 10", e.Message, StringComparison.Ordinal);
            var missing = await Assert.ThrowsAsync<ZetaPrepException>(() => IntrinsicDimension.AnalyzeAsync(Path.Combine(root, "nope"), new IntrinsicDimensionOptions(), CancellationToken.None));
            Assert.Equal(2, missing.ExitCode);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    internal static void TwoParameterFolder(string root, int count, int side)
    {
        var random = new Random(1);
        var a = new double[side * side * 3];
        var b = new double[side * side * 3];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = random.NextDouble();
            b[i] = random.NextDouble();
        }

        for (int n = 0; n < count; n++)
        {
            double s = random.NextDouble() * 0.5, t = random.NextDouble() * 0.5;
            var dir = Path.Combine(root, n % 2 == 0 ? "even" : "odd");
            Directory.CreateDirectory(dir);
            var png = ImageFixtures.Png(side, side, (x, y) =>
            {
                int p = (y * side + x) * 3;
                return (Level(s * a[p] + t * b[p]), Level(s * a[p + 1] + t * b[p + 1]), Level(s * a[p + 2] + t * b[p + 2]), (byte)255);
            });
            File.WriteAllBytes(Path.Combine(dir, $"{n:D4}.png"), png);
        }

        static byte Level(double v) => (byte)Math.Round(255 * v);
    }

    private static Tensor OnSubspace(int n, int d, int ambient, int seed, double noise)
    {
        var generator = new Generator((ulong)seed);
        var coordinates = randn([n, d], dtype: ScalarType.Float64, generator: generator);
        var points = coordinates.matmul(Orthonormal(d, ambient, generator));
        return noise > 0 ? points + noise * randn([n, ambient], dtype: ScalarType.Float64, generator: generator) : points;
    }

    /// <summary>d×D with orthonormal rows: a random isometric embedding of R^d into R^D.</summary>
    private static Tensor Orthonormal(int d, int ambient, Generator generator) =>
        linalg.qr(randn([ambient, d], dtype: ScalarType.Float64, generator: generator)).Q.t();
}
