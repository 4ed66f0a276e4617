using TransformerLab.Experiments;
using TransformerLab.Reporting;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Reporting;

/// <summary>experiments.md's tables against the committed results store.</summary>
public sealed class ExperimentsReportTests : IDisposable
{
    static readonly string Root = Workspace.Root(AppContext.BaseDirectory);
    readonly string empty = Path.Combine(Path.GetTempPath(), "tlab-report-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(empty)) Directory.Delete(empty, recursive: true); }

    [Fact]
    public void Every_table_of_experiments_md_is_what_the_committed_runs_give()
    {
        var markdown = File.ReadAllText(Path.Combine(Root, "experiments.md"));
        var (_, changed) = ExperimentsReport.Update(markdown, new ReportSources(ResultsStore.Default(Root)));
        Assert.True(changed.Count == 0, $"experiments.md is out of date with data/runs in: {string.Join(", ", changed)}. Run `research report`.");
        Assert.Equal(ExperimentsTables.All.Keys.Order(), ExperimentsReport.Marked(markdown).Order()); // every table is placed, once
        Assert.Equal(ExperimentsClaims.All.Keys.Order(), ExperimentsReport.MarkedClaims(markdown).Distinct().Order()); // and every claim
    }

    [Fact]
    public void A_notebook_shows_a_claim_in_the_words_experiments_md_prints()
    {
        var markdown = File.ReadAllText(Path.Combine(Root, "experiments.md"));
        var table = TransformerLab.Notebooks.Tables.Claims("decoding-beam", "guided-best");
        var printed = new System.Text.RegularExpressions.Regex("<!-- claim: (?<name>[a-z0-9-]+) -->(?<body>.*?)<!-- /claim -->", System.Text.RegularExpressions.RegexOptions.Singleline)
            .Matches(markdown).DistinctBy(m => m.Groups["name"].Value).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["body"].Value, StringComparer.Ordinal);
        Assert.Equal(2, table.Rows.Count);
        Assert.Equal(printed["decoding-beam"], table.Columns[1][0]);
        Assert.Equal(printed["guided-best"], table.Columns[1][1]);
        var unknown = Assert.Throws<ArgumentException>(() => TransformerLab.Notebooks.Tables.Claims("no-such-claim"));
        Assert.Contains("decoding-beam", unknown.Message);
    }

    [Fact]
    public void A_notebook_shows_a_table_as_experiments_md_prints_it_and_keeps_only_the_rows_asked_for()
    {
        var markdown = File.ReadAllText(Path.Combine(Root, "experiments.md"));
        var printed = ExperimentsTables.All["reverse-tuning"](new ReportSources(ResultsStore.Default(Root)));
        Assert.Contains(printed.ToString(), markdown);
        var full = TransformerLab.Notebooks.Tables.Report("reverse-tuning", row => row[0] == "Transformer, full attention");
        var expected = printed.Rows.Where(r => r[0] == "Transformer, full attention").ToList();
        Assert.Equal(expected.Count, (int)full.Rows.Count);
        Assert.All(full.Columns[0].Cast<string>(), arm => Assert.Equal("Transformer, full attention", arm));
        Assert.Equal(expected.Select(r => r[^1].Replace("**", "")), full.Columns[^1].Cast<string>()); // "done, chosen": markdown marks dropped
        var unknown = Assert.Throws<ArgumentException>(() => TransformerLab.Notebooks.Tables.Report("no-such-table"));
        Assert.Contains("reverse-tuning", unknown.Message);
    }

    [Fact]
    public void Only_the_marked_lines_change()
    {
        var markdown = "# Title\n\ntext before\n<!-- report: ln-vs-bn -->\n| stale |\n<!-- /report -->\ntext after\n";
        var (updated, changed) = ExperimentsReport.Update(markdown, new ReportSources(ResultsStore.Default(Root)));
        Assert.Equal(["ln-vs-bn"], changed);
        Assert.StartsWith("# Title\n\ntext before\n<!-- report: ln-vs-bn -->\n| normalisation | placement |", updated);
        Assert.EndsWith("|\n<!-- /report -->\ntext after\n", updated);
        Assert.DoesNotContain("stale", updated);
        Assert.Empty(ExperimentsReport.Update(updated, new ReportSources(ResultsStore.Default(Root))).Changed);
    }

    [Fact]
    public void Missing_runs_and_unknown_tables_are_errors_that_say_what_to_do()
    {
        var missing = Assert.Throws<ReportException>(() =>
            ExperimentsReport.Update("<!-- report: causal-mask-04 -->\n<!-- /report -->\n", new ReportSources(new ResultsStore(empty))));
        Assert.Contains("research sweep train --grid causal_mask=true,false", missing.Message);
        Assert.Contains("6 of the 6 runs", missing.Message);
        var unknown = Assert.Throws<ReportException>(() =>
            ExperimentsReport.Update("<!-- report: no-such-table -->\n<!-- /report -->\n", new ReportSources(ResultsStore.Default(Root))));
        Assert.Contains("no-such-table", unknown.Message);
        Assert.Contains("ln-vs-bn", unknown.Message);
    }

    [Fact]
    public void A_plan_over_typed_settings_is_the_plan_its_command_line_gives()
    {
        var ln = ExperimentRegistry.Get<TrainingSettings>("ln-placement");
        var typed = Sweep.Plan(ln,
            from layers in new[] { 6, 12 }
            from lr in new[] { 1e-3, 2e-3 }
            select ln.DefaultConfig.WithTransformer(m => m with { Norm = TransformerLab.Model.NormPlacement.Post, EncoderLayers = layers, DecoderLayers = layers })
                .WithOptimiser(o => o with { Lr = lr, Warmup = 4000, Schedule = LearningRateScheduleKind.InverseSqrt })
                .WithLoop(l => l with { MaxSteps = 6000, EvalEvery = 500 }) with { Threads = 1 }, seeds: 3);
        Assert.Equal(ExperimentsTables.PaperScheduleSweep.Plan().Select(p => (p.Key, p.Seed)), typed.Select(p => (p.Key, p.Seed)));
    }

    [Fact]
    public void Cells_are_mean_and_sample_sd_with_a_true_minus_sign()
    {
        Assert.Equal("2.00 ± 1.00", Cell.MeanSd([1.0, 2.0, 3.0], 2));
        Assert.Equal("50.0 ± 0.0", Cell.MeanSd([0.5], 1, 100));
        // by hand: mean −0.61, sd 0.04; t(0.975, 2) = 4.3027, so the half-width is 4.3027 · 0.04 / √3 = 0.0994
        Assert.Equal("−0.61 ± 0.04 (95 % CI −0.71 to −0.51)", Cell.SignedMeanSd([-0.0061, -0.0065, -0.0057], 2, 100));
        var e = new TransformerLab.Experiments.Estimate([-0.61, -0.65, -0.57]);
        Assert.Equal(4.302652729911275 * 0.04 / Math.Sqrt(3), e.HalfWidth, 1e-9);
        Assert.Equal(TransformerLab.Experiments.Direction.Lower, e.Direction);
        Assert.Equal("lower by 0.61 points (95 % CI 0.51 to 0.71, n 3; 3 of 3 seeds)", e.Verdict(2));
        var narrower = new TransformerLab.Experiments.Estimate([-3.0, -4.5, -2.3]);          // mean −3.27, sd 1.12: interval −6.06 to −0.47
        Assert.Equal(TransformerLab.Experiments.Direction.Lower, narrower.Direction);
        var crossing = new TransformerLab.Experiments.Estimate([-1.9, -4.6, -3.3]);          // same mean, sd 1.35: the interval reaches past 0
        Assert.Equal("no measurable difference (95 % CI −6.62 to 0.09, n 3)", crossing.Verdict(2)); // architecture-g2p's convolutional row, by hand
        Assert.Equal(TransformerLab.Experiments.Direction.None, new TransformerLab.Experiments.Estimate([5.0]).Direction); // one seed: no interval, no direction
        // a rate's interval is cut to 0–100 %: errors 0.6 % and 0.8 % give 0.70 ± 12.7062 · 0.1 = −0.57 to 1.97 uncut
        var rate = new TransformerLab.Experiments.Estimate([0.006, 0.008]);
        Assert.Equal("0.70 (95 % CI −0.57 to 1.97, n 2)", rate.Format(2, 100));
        Assert.Equal("0.70 (95 % CI 0.00 to 1.97, n 2)", rate.Format(2, 100, range: TransformerLab.Experiments.Estimate.Rate));
        Assert.Equal("99.97 (95 % CI 99.72 to 100.00, n 2)", new TransformerLab.Experiments.Estimate([0.9999, 0.9995]).Format(2, 100, range: TransformerLab.Experiments.Estimate.Rate));
        Assert.Equal("4,500 (n 1, no interval)", new TransformerLab.Experiments.Estimate([4500.0]).Format(0)); // thousands grouped like the tables' cells
        // one paired difference: shown with its sign, and no verdict either way
        Assert.Equal("−0.40 points in the one seed finished on both sides (n 1, no interval: no verdict)", new TransformerLab.Experiments.Estimate([-0.004]).Verdict(2, 100));
        // a difference of two rates cannot pass ±100 points: copying's test error, 1.0, 0.96 and 0.995 lower (mean 0.985, sd 0.0218,
        // t(0.975, 2) · sd / √3 = 0.0541: 0.9309 to 1.0391 uncut); the direction is the uncut interval's, the printed one is cut at 100
        var drop = new TransformerLab.Experiments.Estimate([-1.0, -0.96, -0.995]);
        Assert.Equal("lower by 98.50 points (95 % CI 93.09 to 103.91, n 3; 3 of 3 seeds)", drop.Verdict(2, 100));
        Assert.Equal("lower by 98.50 points (95 % CI 93.09 to 100.00, n 3; 3 of 3 seeds)", drop.Verdict(2, 100, range: TransformerLab.Experiments.Estimate.RateDifference));
        Assert.Equal("−98.50 ± 2.18 (95 % CI −100.00 to −93.09)", Cell.RateDifference([-1.0, -0.96, -0.995], 2)); // the tables' cells, cut the same way
        Assert.Equal("−98.50 ± 2.18 (95 % CI −103.91 to −93.09)", Cell.SignedMeanSd([-1.0, -0.96, -0.995], 2, 100));
        // two seeds far apart: −0.1 ± 12.7062 · 1.1314 / √2 = −10.26 to 10.06 uncut, both ends cut
        Assert.Equal("no measurable difference (95 % CI −100.00 to 100.00, n 2)", new TransformerLab.Experiments.Estimate([-0.9, 0.7]).Verdict(2, 100, range: TransformerLab.Experiments.Estimate.RateDifference));
        Assert.Equal("+1.50", Cell.Signed(1.5, 2));
        Assert.Equal("0.0", Cell.Number(-0.01, 1));
        Assert.Equal("–", Cell.MeanSd([], 2));
    }

    /// <summary>
    /// Coarse readings tie: steps to a target come in units of the evaluation interval, an error on 500 items in steps of
    /// 0.2 %. When every seed gives the same difference the t interval has zero width; it must not turn that into a verdict.
    /// </summary>
    [Fact]
    public void The_same_difference_in_every_seed_has_no_interval_and_the_sign_test_decides()
    {
        var five = new TransformerLab.Experiments.Estimate([500.0, 500, 500, 500, 500]);
        Assert.True(five.NoSpread);
        Assert.Equal(TransformerLab.Experiments.Direction.None, five.Direction); // sign test: 2 · 0.5⁵ = 0.0625
        Assert.Equal("+500 steps in each of the 5 seeds (no spread, so no t interval; two-sided sign test p = 0.0625: no verdict)", five.Verdict(0, unit: " steps"));
        var six = new TransformerLab.Experiments.Estimate([-0.002, -0.002, -0.002, -0.002, -0.002, -0.002]);
        Assert.Equal(TransformerLab.Experiments.Direction.Lower, six.Direction); // 2 · 0.5⁶ = 0.03125
        Assert.Equal("lower by 0.20 points in each of the 6 seeds (no spread, so no t interval; two-sided sign test p = 0.0312)", six.Verdict(2, 100)); // 0.03125, G3
        Assert.Equal("no measurable difference (0 in each of the 3 seeds: no spread, no interval)", new TransformerLab.Experiments.Estimate([0.0, 0, 0]).Verdict(2, 100));
        Assert.Equal("0.00 (the same in each of n 5: no spread, no interval)", new TransformerLab.Experiments.Estimate([0.0, 0, 0, 0, 0]).Format(2, 100, range: TransformerLab.Experiments.Estimate.Rate));
        Assert.Equal("+0.20 ± 0.00 (the same in each seed: no interval)", Cell.SignedMeanSd([0.002, 0.002, 0.002], 2, 100));
        // one value apart is spread: the t interval speaks again
        Assert.False(new TransformerLab.Experiments.Estimate([500.0, 500, 500, 500, 1000]).NoSpread);
    }
}
