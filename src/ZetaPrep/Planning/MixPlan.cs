using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>
/// The whole generation decided from the seed and the input count, with no pixels: shuffled batches per pass, every
/// output's members, weights and γ, and whole-batch shards. Shard k is a pure function of (plan, k).
/// </summary>
/// <remarks>
/// <para>Only the shuffled input order of the pass last used is kept (4 bytes per input), drawn again from the pass's
/// own stream when another pass is asked for; a batch's recipes are drawn from its own random streams when
/// <see cref="Batches"/> is indexed, the same every time. Planning every batch up front had held ~240 bytes per row for
/// the whole run (~300 MB for ImageNet's 1.28 M images), and keeping every pass's order 4 bytes per input and pass.</para>
/// <para>Every batch has <see cref="PlanOptions.BatchSize"/> inputs but a pass's last, which has the rest; when one input
/// would be left over, the last full batch takes it (B + 1 inputs): alone in a batch it had nothing to mix with.</para>
/// </remarks>
public sealed class MixPlan
{
    /// <summary>The most shards a plan may have: the manifest lists every one.</summary>
    public const int MaxShards = 1_000_000;

    private readonly int _batchesPerPass;
    private readonly object _orderLock = new();
    private (int Pass, int[] Order)? _order;
    private readonly int _rowsPerInput;

    public PlanOptions Options { get; }

    public int InputCount { get; }

    /// <summary>Every batch in plan order, built on each access (callers keep what they need).</summary>
    public IReadOnlyList<PlannedBatch> Batches { get; }

    public IReadOnlyList<ShardPlan> Shards { get; }

    public long TotalRows { get; }

    /// <summary>Inputs of the largest batch: <see cref="PlanOptions.BatchSize"/>, one more where a pass's last batch took a lone leftover input, or all inputs when they are fewer.</summary>
    public int MaxBatchInputs => Math.Max(BatchInputs(0), BatchInputs(_batchesPerPass - 1));

    /// <summary>Rows of the largest batch.</summary>
    public int MaxBatchRows => MaxBatchInputs * _rowsPerInput;

    private MixPlan(PlanOptions options, int inputCount, int batchesPerPass)
    {
        Options = options;
        InputCount = inputCount;
        _batchesPerPass = batchesPerPass;
        _rowsPerInput = options.KeepOriginals ? 2 : 1;
        Batches = new BatchList(this, options.Passes * _batchesPerPass);
        TotalRows = (long)inputCount * options.Passes * _rowsPerInput;
        Shards = CutShards(Batches.Count, BatchRows, options.ShardRows);
    }

    /// <summary>Plans <paramref name="inputCount"/> inputs (indices 0..count−1 of the sorted listing).</summary>
    public static MixPlan Create(int inputCount, PlanOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // N only matters where ζ weights are used; mixup, CutMix and none pair or copy and ignore it.
        var usesZeta = options.Method.Method is MixMethod.Zeta or MixMethod.CutMixZeta || options.Method.SwitchToCutMix;
        if (usesZeta && options.N.N is int fixedN && fixedN > options.BatchSize)
        {
            throw ZetaPrepException.Usage($"--n {fixedN} is larger than --batch-size {options.BatchSize}: outputs mix samples of one batch; lower --n or raise --batch-size.");
        }
        if (inputCount < 2)
        {
            throw new ZetaPrepException($"the input has {inputCount} usable image(s); ζ-mixup needs at least 2.");
        }
        var full = inputCount / options.BatchSize;
        var rest = inputCount % options.BatchSize;
        var batchesPerPass = full + (rest > 1 || full == 0 ? 1 : 0); // a lone leftover joins the last full batch
        var batches = (long)batchesPerPass * options.Passes;
        var rowsPerInput = options.KeepOriginals ? 2L : 1L;
        // Shards hold whole batches of up to shardRows rows (at least one batch): this many at the least.
        var rowsPerShard = Math.Max(options.ShardRows, Math.Min(options.BatchSize, inputCount) * rowsPerInput);
        var shards = batches * Math.Min(options.BatchSize, inputCount) * rowsPerInput / rowsPerShard;
        if (batches > int.MaxValue || shards > MaxShards)
        {
            throw ZetaPrepException.Usage(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--passes {options.Passes}: {inputCount:N0} inputs × {options.Passes:N0} passes make {inputCount * (long)options.Passes * rowsPerInput:N0} rows, more than one output holds "
                + $"(at most {int.MaxValue:N0} batches and {MaxShards:N0} shards, of --shard-rows {options.ShardRows:N0}); lower --passes or raise --shard-rows."));
        }
        return new MixPlan(options, inputCount, batchesPerPass);
    }

    /// <summary>Pass <paramref name="pass"/>'s shuffled input order (the one last asked for is kept).</summary>
    private int[] Order(int pass)
    {
        lock (_orderLock)
        {
            if (_order is { } kept && kept.Pass == pass)
            {
                return kept.Order;
            }
            var order = new int[InputCount];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            // Each pass reshuffles from its own stream, so pass p does not depend on how many draws pass p−1 made.
            new DeterministicRandom(Options.Seed, (ulong)pass, ulong.MaxValue).Shuffle(order);
            _order = (pass, order);
            return order;
        }
    }

    /// <summary>Inputs of batch <paramref name="batch"/>: the batch size, but a pass's last batch, which has the rest (with a lone leftover, B + 1).</summary>
    private int BatchInputs(int batch)
    {
        var index = batch % _batchesPerPass;
        return index < _batchesPerPass - 1 ? Options.BatchSize : InputCount - (index * Options.BatchSize);
    }

    private int BatchRows(int batch) => BatchInputs(batch) * _rowsPerInput;

    private PlannedBatch Build(int batch)
    {
        var pass = batch / _batchesPerPass;
        var batchIndex = batch % _batchesPerPass;
        var start = batchIndex * Options.BatchSize;
        var inputs = Order(pass).AsSpan(start, BatchInputs(batch)).ToArray();
        var rng = new DeterministicRandom(Options.Seed, (ulong)pass, (ulong)batchIndex);
        var outputs = PlanBatch(inputs.Length, Options, rng);
        // Baselines draw from a stream of their own, so ζ outputs stay identical to a plain ζ run.
        MethodPlanner.Apply(outputs, Options, new DeterministicRandom(Options.Seed, (ulong)pass + MethodPlanner.StreamOffset, (ulong)batchIndex));
        var firstRow = ((long)pass * InputCount + start) * _rowsPerInput;
        return new PlannedBatch(pass, batchIndex, firstRow, inputs, outputs, Options.KeepOriginals);
    }

    /// <summary>The batches as a list whose items are planned when read.</summary>
    private sealed class BatchList(MixPlan plan, int count) : IReadOnlyList<PlannedBatch>
    {
        public int Count => count;

        public PlannedBatch this[int index] => (uint)index < (uint)count ? plan.Build(index) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<PlannedBatch> GetEnumerator()
        {
            for (var i = 0; i < count; i++)
            {
                yield return plan.Build(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static MixRecipe[] PlanBatch(int m, PlanOptions options, DeterministicRandom rng)
    {
        var n = options.N.For(m);
        var outputs = new MixRecipe[m];
        var others = new int[m - 1];
        var rankWeights = new double[n];
        for (var k = 0; k < m; k++)
        {
            var gamma = options.Gamma.At(rng.NextDouble());
            ZetaWeights.ForRanks(gamma, rankWeights);
            // Partial Fisher–Yates over the other positions: draw order = rank order, so ranks 2..n are a
            // uniformly random assignment (with n = m, a uniform permutation: the authors' B×B rows).
            var c = 0;
            for (var p = 0; p < m; p++)
            {
                if (p != k)
                {
                    others[c++] = p;
                }
            }
            var members = new int[n];
            members[0] = k;
            for (var r = 1; r < n; r++)
            {
                var pick = r - 1 + rng.NextInt(others.Length - (r - 1));
                (others[r - 1], others[pick]) = (others[pick], others[r - 1]);
                members[r] = others[r - 1];
            }
            outputs[k] = new MixRecipe(members, (double[])rankWeights.Clone(), gamma);
        }
        return outputs;
    }

    private static List<ShardPlan> CutShards(int batchCount, Func<int, int> rowsOf, int shardRows)
    {
        // Whole batches per shard: as many as fit in shardRows, at least one.
        var shards = new List<(int First, int Count, long FirstRow, int Rows)>();
        var first = 0;
        long firstRow = 0;
        while (first < batchCount)
        {
            var count = 0;
            var rows = 0;
            while (first + count < batchCount)
            {
                var next = rowsOf(first + count);
                if (count > 0 && rows + next > shardRows)
                {
                    break;
                }
                rows += next;
                count++;
            }
            shards.Add((first, count, firstRow, rows));
            first += count;
            firstRow += rows;
        }
        return shards.Select((s, i) => new ShardPlan(i, shards.Count, s.First, s.Count, s.FirstRow, s.Rows)).ToList();
    }
}
