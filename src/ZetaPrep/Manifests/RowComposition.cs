using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Manifests;

/// <summary>
/// How a run's rows were made, replayed from its manifest (recorded options, input count and seed; the plan is a pure
/// function of them): rows per method, resized originals by cause, and N as the ζ rows used it.
/// </summary>
/// <param name="Rows">Rows of the whole plan.</param>
/// <param name="ByMethod">Mixed rows per --method name (zeta, mixup, cutmix, cutmix+zeta), in that order; absent methods left out.</param>
/// <param name="KeptOriginals">Resized originals written by --keep-originals (one per input and pass).</param>
/// <param name="Unmixed">Outputs written as resized originals: every output of --method none, or those --prob left unmixed.</param>
/// <param name="ZetaNMin">Fewest samples a ζ weight vector mixed (N capped at the inputs of its batch); null without ζ rows.</param>
/// <param name="ZetaNMax">Most samples a ζ weight vector mixed; null without ζ rows.</param>
public sealed record RowComposition(long Rows, IReadOnlyList<(string Method, long Rows)> ByMethod, long KeptOriginals, long Unmixed, int? ZetaNMin, int? ZetaNMax)
{
    public long Originals => KeptOriginals + Unmixed;

    public long Mixed => Rows - Originals;

    /// <summary>Replays the plan of <paramref name="manifest"/>; no pixels or shards are read.</summary>
    public static RowComposition Of(GenerationManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var o = manifest.Options;
        var method = MixMethodOptions.Parse(o.Method, o.Alpha, o.LabelSmoothing, o.Prob, o.Method == "zeta,cutmix" ? o.SwitchProb : null);
        var options = new PlanOptions(MixCount.Parse(o.N), GammaSpec.Parse(o.Gamma), o.BatchSize, o.Passes, o.Seed, o.ShardRows, o.KeepOriginals)
        {
            Method = method,
            ImageSize = o.Size,
        };
        var plan = MixPlan.Create(manifest.Input.Count, options);
        var counts = new long[5];
        long kept = 0, rows = 0;
        int? nMin = null, nMax = null;
        foreach (var batch in plan.Batches)
        {
            rows += batch.Rows;
            kept += batch.KeepOriginals ? batch.Inputs.Length : 0;
            foreach (var recipe in batch.Outputs)
            {
                counts[(int)recipe.Method]++;
                // ζ weights: the label's members for ζ rows, the pixels' (the own ζ mix) for CutMix on ζ.
                var zeta = recipe.Method switch
                {
                    MixMethod.Zeta => recipe.Members.Length,
                    MixMethod.CutMixZeta => recipe.PixelMembers?.Length,
                    _ => null,
                };
                if (zeta is int n)
                {
                    nMin = Math.Min(nMin ?? n, n);
                    nMax = Math.Max(nMax ?? n, n);
                }
            }
        }
        var byMethod = new[] { MixMethod.Zeta, MixMethod.Mixup, MixMethod.CutMix, MixMethod.CutMixZeta }
            .Where(m => counts[(int)m] > 0)
            .Select(m => (MixMethodOptions.NameOf(m), counts[(int)m]))
            .ToList();
        return new RowComposition(rows, byMethod, kept, counts[(int)MixMethod.None], nMin, nMax);
    }
}
