using System.Globalization;
using TorchSharp;
using ZetaPrep.Mixing;
using static TorchSharp.torch;

namespace ZetaPrep.Analysis;

/// <summary>
/// Local intrinsic dimension by Fukunaga and Olsen's local PCA (IEEE Trans. Computers 1971), as the ζ-mixup paper's
/// manifold check: for each point, the k nearest other points (Euclidean, the point itself excluded), their covariance
/// around their own mean, and the count of eigenvalues above alpha × the largest.
/// </summary>
public static class IntrinsicDimension
{
    // Elements per temporary tensor (64 Mi floats = 256 MB): bounds the distance block and the neighbourhood batch.
    private const long BlockElements = 1L << 26;

    /// <summary>Loads a subsample of <paramref name="input"/> (see <see cref="PixelSample.LoadAsync"/>) and estimates its local intrinsic dimension.</summary>
    public static async Task<IntrinsicDimensionResult> AnalyzeAsync(string input, IntrinsicDimensionOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var device = TorchRuntime.ResolveDevice(options.Device);
        var sample = await PixelSample.LoadAsync(input, options.MaxSamples, options.Size, options.Seed, ct).ConfigureAwait(false);
        if (options.K >= sample.Count)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--k {options.K}: needs more than k points, but {input} gave {sample.Count}; {(sample.Count < options.MaxSamples ? $"it holds no more images: use --k {Math.Max(1, sample.Count - 1)} or less" : "lower --k or raise --max-samples")}."));
        }

        int[] dims;
        using (var scope = NewDisposeScope())
        {
            var points = tensor(sample.Pixels, [sample.Count, sample.Dimension], dtype: ScalarType.Byte)
                .to(device).to_type(ScalarType.Float32).div_(255f);
            dims = LocalDimensions(points, options.K, options.AlphaFo, ct);
        }

        var (mean, std, histogram) = IntrinsicDimensionResult.Summarize(dims);
        return new IntrinsicDimensionResult(input, sample.InputKind, sample.Available, sample.Count, sample.ImageSize, sample.Dimension,
            options.K, options.AlphaFo, options.Seed, device.type == DeviceType.CUDA ? "cuda" : "cpu", mean, std, histogram);
    }

    /// <summary>The local dimension of each row of <paramref name="points"/> (n×D, float), from its <paramref name="k"/> nearest other rows.</summary>
    public static int[] LocalDimensions(Tensor points, int k, double alphaFo, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.dim() != 2)
        {
            throw new ArgumentException($"points must be n×D, got {points.dim()} dimensions", nameof(points));
        }

        long n = points.shape[0];
        long d = points.shape[1];
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, n);
        if (!(alphaFo > 0 && alphaFo < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alphaFo), alphaFo, "must lie in (0, 1)");
        }

        var dims = new int[n];
        using var outer = NewDisposeScope();
        var x = points.to_type(ScalarType.Float32);
        var squaredNorms = x.square().sum(1);
        long rowsPerBlock = Math.Clamp(BlockElements / n, 1, n);
        long neighbourhoodsPerBatch = Math.Clamp(BlockElements / (k * d), 1, rowsPerBlock);
        for (long start = 0; start < n; start += rowsPerBlock)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            long end = Math.Min(n, start + rowsPerBlock);
            var block = x.narrow(0, start, end - start);
            // ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b: one matmul per block instead of an n×n×D difference tensor.
            var distances = squaredNorms.narrow(0, start, end - start).unsqueeze(1) + squaredNorms.unsqueeze(0) - 2 * block.matmul(x.t());
            var self = arange(start, end, dtype: ScalarType.Int64, device: x.device).unsqueeze(1);
            distances.scatter_(1, self, full([end - start, 1], float.PositiveInfinity, dtype: ScalarType.Float32, device: x.device)); // excluded by index, so duplicate images still count as neighbours
            var neighbours = distances.topk(k, dim: 1, largest: false, sorted: false).indexes;
            for (long b = 0; b < end - start; b += neighbourhoodsPerBatch)
            {
                ct.ThrowIfCancellationRequested();
                using var inner = NewDisposeScope();
                long count = Math.Min(neighbourhoodsPerBatch, end - start - b);
                var idx = neighbours.narrow(0, b, count).reshape(-1);
                var eigenvalues = NeighbourhoodEigenvalues(x.index_select(0, idx).view(count, k, d));
                var largest = eigenvalues.narrow(1, k - 1, 1);
                var counts = eigenvalues.gt(largest * alphaFo).sum(1).to(CPU).to_type(ScalarType.Int32);
                counts.data<int>().CopyTo(dims, checked((int)(start + b)));
            }
        }

        return dims;
    }

    /// <summary>
    /// Eigenvalues (ascending, float64) of each neighbourhood's covariance, batch×k from batch×k×D neighbours. The
    /// nonzero eigenvalues of the D×D covariance YᵀY/(k−1) of the centred neighbours Y equal those of the k×k Gram
    /// matrix YYᵀ/(k−1) (same singular values of Y), so with D = 3·S² ≫ k the small one is decomposed.
    /// </summary>
    internal static Tensor NeighbourhoodEigenvalues(Tensor neighbours)
    {
        long k = neighbours.shape[1];
        var centred = neighbours - neighbours.mean([1], keepdim: true);
        var gram = centred.bmm(centred.transpose(1, 2)).to_type(ScalarType.Float64).div_(k - 1);
        return linalg.eigvalsh(gram);
    }
}
