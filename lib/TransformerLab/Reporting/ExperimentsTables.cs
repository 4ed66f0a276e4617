using TransformerLab.Model;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>
/// Every table of experiments.md that reports results, each made from the runs of the sweep whose command experiments.md
/// shows beside it. Percentages are the stored fractions × 100; "mean ± sd" is over the finished (done) runs of a row,
/// sample sd; per-seed values are in seed order. One study a file, its sweeps beside its tables
/// (ExperimentsTables.LayerNormPlacement.cs, .ExposureBias.cs, .AtVsNat.cs, .Decoding.cs, .Comparisons.cs, .Headline.cs,
/// .Notebooks02To04.cs, .SequenceLevel.cs, .Bench.cs); this file holds the index and what the studies share.
/// </summary>
public static partial class ExperimentsTables
{
    /// <summary>Every table, by the name experiments.md marks it with.</summary>
    public static readonly IReadOnlyDictionary<string, Func<ReportSources, MarkdownTable>> All = new Dictionary<string, Func<ReportSources, MarkdownTable>>
    {
        ["ln-gradients-at-init"] = GradientsAtInitialisation,
        ["ln-grid-2"] = s => LayerNormGrid(s, 2),
        ["ln-grid-6"] = s => LayerNormGrid(s, 6),
        ["ln-grid-12"] = s => LayerNormGrid(s, 12),
        ["ln-warmup-paper-schedule"] = PaperScheduleWarmup,
        ["ln-vs-bn"] = LayerNormVsBatchNorm,
        ["exposure-bias"] = ExposureBias,
        ["exposure-bias-by-position"] = ExposureBiasByPosition,
        ["scheduled-sampling-by-position"] = ScheduledSamplingByPosition,
        ["scheduled-sampling-by-length"] = ScheduledSamplingByLength,
        ["scheduled-sampling-reverse"] = ScheduledSamplingReverse,
        ["scheduled-sampling-g2p"] = ScheduledSamplingG2p,
        ["at-vs-nat-g2p"] = s => AtVsNat(s, AtVsNatG2p, "WER %", "PER %", meanLength: true),
        ["at-vs-nat-g2p-refinement"] = AtVsNatRefinement,
        ["at-vs-nat-reverse"] = s => AtVsNat(s, AtVsNatReverse, "test sequence error %", "symbol error %", meanLength: false),
        ["nat-alone-reverse"] = NatAlone,
        ["decoding-beam"] = DecodingBeam,
        ["decoding-sampling"] = DecodingSampling,
        ["decoding-beam-oracle"] = DecodingBeamOracle,
        ["g2p-headline"] = G2pHeadline,
        ["synthetic-tasks"] = SyntheticTaskTable,
        ["g2p-headline-dev"] = G2pHeadlineDev,
        ["heads-02"] = Heads,
        ["positions-03"] = Positions,
        ["causal-mask-04"] = CausalMask,
        ["precision-g2p"] = PrecisionG2p,
        ["sequence-training-g2p"] = SequenceTrainingG2p,
        ["guided-attention-g2p"] = GuidedAttentionG2p,
        ["copying-names"] = CopyingNames,
        ["attention-g2p"] = s => EncoderAttention(s, EncoderAttentionSweep, "WER", "PER"),
        ["attention-reverse"] = s => EncoderAttention(s, EncoderAttentionReverseSweep, "sequence error", "symbol error"),
        ["architecture-g2p"] = s => Architectures(s, ArchitectureG2pSweeps, "WER", "PER"),
        ["architecture-reverse"] = s => Architectures(s, ArchitectureReverseSweeps, "sequence error", "symbol error"),
        ["reverse-tuning"] = ReverseTuning,
        ["reverse-reported-commands"] = ReverseReportedCommands,
        ["reverse-reported"] = ReverseReported,
        ["bench-figures"] = BenchFigures,
        ["bench-ratios"] = BenchRatios,
        ["bench-layers"] = s => BenchSection(s.Bench(LayersBenchFile), Benchmarks.Bench.LayersSection),
    };


    /// <summary>The runs grouped by the values of <paramref name="keys"/>, groups in the order of their values, runs in seed order.</summary>
    static IEnumerable<(string[] Values, IReadOnlyList<RunRecord> Runs)> Groups(IReadOnlyList<RunRecord> runs, params string[] keys)
    {
        IEnumerable<string[]> combinations = [[]];
        foreach (var key in keys)
        {
            var values = Analysis.Ordered(runs.Select(r => r.Config[key]));
            combinations = combinations.SelectMany(c => values.Select(v => (string[])[.. c, v]));
        }
        foreach (var values in combinations)
        {
            var group = runs.Where(r => keys.Select((k, i) => r.Config[k] == values[i]).All(same => same)).OrderBy(r => r.Seed).ToList();
            if (group.Count > 0) yield return (values, group);
        }
    }

    /// <summary>A value of the done runs (not the diverged or failed ones), in seed order.</summary>
    static IEnumerable<double> Done(IEnumerable<RunRecord> runs, Func<RunRecord, double> value) =>
        runs.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed).Select(value);

    static TrainingReadings Training(RunRecord run) => run.TrainingReadings();

    static string Outcome(IReadOnlyList<RunRecord> runs)
    {
        var parts = runs.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        return string.Join(", ", parts);
    }
}
