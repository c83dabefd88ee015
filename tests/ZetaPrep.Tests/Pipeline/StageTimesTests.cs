using System.Text.RegularExpressions;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

public class StageTimesTests
{
    [Fact]
    public void Phases_are_printed_in_order_once_every_phase_was_reached()
    {
        var times = new StageTimes();
        foreach (var phase in Enum.GetValues<StageTimes.Phase>())
        {
            times.Mark(phase);
            Thread.Sleep(2);
        }
        var line = times.Format(TimeSpan.FromSeconds(1)).Split('\n').Single(l => l.StartsWith("phases: ", StringComparison.Ordinal)).TrimEnd();
        var m = Regex.Match(line, @"^phases: listing ([\d.]+) s, validation ([\d.]+) s, first batch ([\d.]+) s, other batches ([\d.]+) s, finish ([\d.]+) s$");
        Assert.True(m.Success, line);
        // Each phase spans one sleep of ≥ 2 ms.
        Assert.All(Enumerable.Range(1, 5), g => Assert.True(double.Parse(m.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.001, line));
    }

    [Fact]
    public void A_second_mark_keeps_the_first_time_and_a_missing_phase_leaves_the_line_out()
    {
        var times = new StageTimes();
        times.Mark(StageTimes.Phase.Start);
        times.Mark(StageTimes.Phase.Listed);
        times.Mark(StageTimes.Phase.Validated);
        // A run with nothing left to write (every shard already done) never has a first batch.
        Assert.DoesNotContain("phases: ", times.Format(TimeSpan.FromSeconds(1)), StringComparison.Ordinal);

        times.Mark(StageTimes.Phase.FirstBatchReady);
        Thread.Sleep(20);
        times.Mark(StageTimes.Phase.BatchesWritten);
        times.Mark(StageTimes.Phase.Done);
        Thread.Sleep(20);
        times.Mark(StageTimes.Phase.Listed); // later marks of a reached phase do not move it
        var line = times.Format(TimeSpan.FromSeconds(1)).Split('\n').Single(l => l.StartsWith("phases: ", StringComparison.Ordinal));
        var listing = double.Parse(Regex.Match(line, @"listing ([\d.]+) s").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var other = double.Parse(Regex.Match(line, @"other batches ([\d.]+) s").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(listing < 0.035, line); // moved, it would be ≥ 0.04
        Assert.True(other >= 0.019, line);
    }
}
