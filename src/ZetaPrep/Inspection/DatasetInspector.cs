using ZetaPrep.Manifests;

namespace ZetaPrep.Inspection;

/// <summary>Reads every row of a generated dataset once and summarises it (<see cref="DatasetSummary"/>).</summary>
public static class DatasetInspector
{
    public static async Task<DatasetSummary> InspectAsync(string directory, CancellationToken ct)
    {
        var dataset = GeneratedDataset.Open(directory);
        var m = dataset.Manifest;
        var warnings = new List<string>();
        if (dataset.IncompleteNote("this summary covers those shards only") is { } incomplete)
        {
            warnings.Add(incomplete);
        }
        else if (m.Worker is null && m.Shards.Count != m.Plan.Shards)
        {
            // "complete" with shards missing from the list: an edited manifest (verify fails it the same way).
            warnings.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{GenerationManifest.FileName} says complete but lists {m.Shards.Count} of the plan's {m.Plan.Shards} shard(s), so this summary covers those only; it was changed after generation: restore the manifest.json the run wrote, or check the output with 'zetaprep verify {dataset.Directory}'."));
        }
        // Loaders and train read the class names a Parquet shard records, not the manifest's: show those, and say so.
        var (classes, mismatches) = await ShardClassNames.ShownAsync(dataset, "Shown below: the shards' names.", ct).ConfigureAwait(false);
        warnings.AddRange(mismatches);
        var mass = new double[classes.Count];
        var dominant = new long[classes.Count];
        long rows = 0;
        var gammaMin = float.PositiveInfinity;
        var gammaMax = float.NegativeInfinity;
        var sourcesMin = int.MaxValue;
        var sourcesMax = 0;
        var byMethod = new List<MethodRows>();
        int? zetaMin = null, zetaMax = null;
        float? zetaGammaMin = null, zetaGammaMax = null;
        await foreach (var (_, _, row) in dataset.ReadRowsAsync(ct).ConfigureAwait(false))
        {
            rows++;
            for (var c = 0; c < Math.Min(mass.Length, row.Label.Length); c++)
            {
                mass[c] += row.Label[c];
            }
            if (row.Dominant >= 0 && row.Dominant < dominant.Length)
            {
                dominant[row.Dominant]++;
            }
            gammaMin = Math.Min(gammaMin, row.Gamma);
            gammaMax = Math.Max(gammaMax, row.Gamma);
            sourcesMin = Math.Min(sourcesMin, row.Sources.Length);
            sourcesMax = Math.Max(sourcesMax, row.Sources.Length);
            // Shards written before the method column was recorded hold ζ rows and originals only.
            var method = row.Original ? "original" : row.Method ?? "zeta";
            var at = byMethod.FindIndex(x => x.Method == method);
            if (at < 0)
            {
                byMethod.Add(new MethodRows(method, 1));
            }
            else
            {
                byMethod[at] = byMethod[at] with { Rows = byMethod[at].Rows + 1 };
            }
            if (method == "zeta")
            {
                zetaMin = Math.Min(zetaMin ?? int.MaxValue, row.Sources.Length);
                zetaMax = Math.Max(zetaMax ?? 0, row.Sources.Length);
            }
            if (method is "zeta" or "cutmix+zeta")
            {
                zetaGammaMin = Math.Min(zetaGammaMin ?? float.PositiveInfinity, row.Gamma);
                zetaGammaMax = Math.Max(zetaGammaMax ?? float.NegativeInfinity, row.Gamma);
            }
        }
        return new DatasetSummary(
            dataset.Format.Name,
            m.Shards.Select(s => new ShardSummary(s.File, s.Rows, s.Bytes)).ToList(),
            rows,
            m.Shards.Sum(s => s.Bytes),
            classes.Select((name, i) => new ClassSummary(i, name, Math.Round(mass[i], 6), dominant[i])).ToList(),
            rows == 0 ? 0 : gammaMin,
            rows == 0 ? 0 : gammaMax,
            // N shapes ζ weights only: "n": "8" on a mixup or CutMix output meant nothing (the text leaves it out too).
            zetaGammaMin is null ? null : m.Options.N,
            rows == 0 ? 0 : sourcesMin,
            sourcesMax,
            m.Options.Size)
        {
            Complete = m.Complete,
            PlannedShards = m.Plan.Shards,
            Warnings = warnings,
            Method = m.Options.Method,
            RowsByMethod = byMethod,
            ZetaSourcesMin = zetaMin,
            ZetaSourcesMax = zetaMax,
            ZetaGammaMin = zetaGammaMin,
            ZetaGammaMax = zetaGammaMax,
        };
    }
}
