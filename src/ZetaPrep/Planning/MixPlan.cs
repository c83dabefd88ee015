using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>
/// The whole generation decided up front from the seed and the input count, with no pixels: shuffled batches per
/// pass, every output's members, weights and γ, and whole-batch shards. Shard k is a pure function of (plan, k).
/// </summary>
public sealed class MixPlan
{
    public PlanOptions Options { get; }

    public int InputCount { get; }

    public IReadOnlyList<PlannedBatch> Batches { get; }

    public IReadOnlyList<ShardPlan> Shards { get; }

    public long TotalRows { get; }

    private MixPlan(PlanOptions options, int inputCount, IReadOnlyList<PlannedBatch> batches, IReadOnlyList<ShardPlan> shards, long rows)
    {
        Options = options;
        InputCount = inputCount;
        Batches = batches;
        Shards = shards;
        TotalRows = rows;
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
        var batches = new List<PlannedBatch>();
        long row = 0;
        var order = new int[inputCount];
        for (var pass = 0; pass < options.Passes; pass++)
        {
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            // Each pass reshuffles from its own stream, so pass p does not depend on how many draws pass p−1 made.
            new DeterministicRandom(options.Seed, (ulong)pass, ulong.MaxValue).Shuffle(order);
            var batchIndex = 0;
            for (var start = 0; start < inputCount; start += options.BatchSize)
            {
                var inputs = order.AsSpan(start, Math.Min(options.BatchSize, inputCount - start)).ToArray();
                var rng = new DeterministicRandom(options.Seed, (ulong)pass, (ulong)batchIndex);
                var outputs = PlanBatch(inputs.Length, options, rng);
                // Baselines draw from a stream of their own, so ζ outputs stay identical to a plain ζ run.
                MethodPlanner.Apply(outputs, options, new DeterministicRandom(options.Seed, (ulong)pass + MethodPlanner.StreamOffset, (ulong)batchIndex));
                var batch = new PlannedBatch(pass, batchIndex, row, inputs, outputs, options.KeepOriginals);
                batches.Add(batch);
                row += batch.Rows;
                batchIndex++;
            }
        }
        return new MixPlan(options, inputCount, batches, CutShards(batches, options.ShardRows), row);
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

    private static List<ShardPlan> CutShards(List<PlannedBatch> batches, int shardRows)
    {
        // Whole batches per shard: as many as fit in shardRows, at least one.
        var shards = new List<(int First, int Count, long FirstRow, int Rows)>();
        var first = 0;
        while (first < batches.Count)
        {
            var count = 0;
            var rows = 0;
            while (first + count < batches.Count)
            {
                var next = batches[first + count].Rows;
                if (count > 0 && rows + next > shardRows)
                {
                    break;
                }
                rows += next;
                count++;
            }
            shards.Add((first, count, batches[first].FirstRow, rows));
            first += count;
        }
        return shards.Select((s, i) => new ShardPlan(i, shards.Count, s.First, s.Count, s.FirstRow, s.Rows)).ToList();
    }
}
