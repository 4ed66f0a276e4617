using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebook 05: LayerNorm placement — Post-LN against Pre-LN by depth and warm-up, gradients at initialisation, LayerNorm against BatchNorm.</summary>
public static partial class ExperimentsTables
{
    public static readonly SweepSpec LayerNormGridSweep = SweepSpec.Of("ln-placement", 3,
        ("norm", "post,pre"), ("encoder_layers+decoder_layers", "2,6,12"), ("lr", "0.0005,0.001,0.002"), ("warmup", "0,300"));

    public static readonly SweepSpec PaperScheduleSweep = SweepSpec.Of("ln-placement", 3,
        s => s.WithTransformer(m => m with { Norm = NormPlacement.Post })
            .WithOptimiser(o => o with { Warmup = 4000, Schedule = LearningRateScheduleKind.InverseSqrt })
            .WithLoop(l => l with { MaxSteps = 6000, EvalEvery = 500 }) with { Threads = 1 },
        ("encoder_layers+decoder_layers", "6,12"), ("lr", "0.001,0.002"));

    /// <summary>
    /// Seeds 1–5 of the grid cell whose paired interval included 0 at n = 3 (issue 36): Post- against Pre-LN at 2 layers,
    /// lr 2e-3, no warm-up. Seeds 1–3 are the grid's own runs.
    /// </summary>
    public static readonly SweepSpec TwoLayerPlacementSweep = SweepSpec.Of("ln-placement", 5,
        s => s.WithTransformer(m => m with { EncoderLayers = 2, DecoderLayers = 2 }).WithOptimiser(o => o with { Lr = 0.002, Warmup = 0 }), ("norm", "post,pre"));

    /// <summary>Seeds 1–5 of the 12-layer Pre-LN cells at lr 1e-3 (warm-up 0 and 300), whose paired interval included 0 at n = 3 (issue 36).</summary>
    public static readonly SweepSpec TwelveLayerPreLnWarmupSweep = SweepSpec.Of("ln-placement", 5,
        s => s.WithTransformer(m => m with { Norm = NormPlacement.Pre, EncoderLayers = 12, DecoderLayers = 12 }).WithOptimiser(o => o with { Lr = 0.001 }), ("warmup", "0,300"));

    public static readonly SweepSpec NormalizationSweep = SweepSpec.Of("ln-placement", 3, s => s.WithOptimiser(o => o with { Warmup = 300 }),
        ("normalization", "layer_norm,batch_norm"), ("norm", "post,pre"));

    static MarkdownTable GradientsAtInitialisation(ReportSources s)
    {
        // Initialisation and the first batch depend on the seed and the model only, not on lr or warm-up: one cell of the grid serves.
        var runs = s.Runs(LayerNormGridSweep).Where(r => r.Config["lr"] == "0.001" && r.Config["warmup"] == "0").ToList();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var depth in new[] { "6", "12" })
            foreach (var norm in new[] { "post", "pre" })
            {
                var gradients = runs.Where(r => r.Config["encoder_layers"] == depth && r.Config["norm"] == norm).Select(LayerNormPlacementExperiment.InitialGradients).ToList();
                double At(string stack, int layer) => gradients.Average(run => run.Single(row => row.Stack == stack && row.Layer == layer).GradNorm);
                string Ends(string stack) => $"{At(stack, 0):F3} → {At(stack, int.Parse(depth) - 1):F3}";
                rows.Add([$"{Placement(norm)}, {depth}", Ends("encoder"), Ends("decoder"), gradients.Count.ToString()]);
            }
        return new(["placement, layers", "encoder first → last", "decoder first → last", "seeds"], rows);
    }

    static MarkdownTable LayerNormGrid(ReportSources s, int depth) =>
        TrainingGrid(s.Runs(LayerNormGridSweep).Where(r => r.Config["encoder_layers"] == depth.ToString()).ToList(), ["norm", "lr", "warmup"],
            ["placement", "peak lr", "warm-up"], v => [Placement(v[0]), v[1], v[2]]);

    /// <summary>Run over several sittings: the rows show what is finished and count what is still to run.</summary>
    static MarkdownTable PaperScheduleWarmup(ReportSources s) =>
        TrainingGrid(s.FinishedRuns(PaperScheduleSweep), ["encoder_layers", "lr"], ["layers", "peak lr"], v => [$"{v[0]} + {v[0]}", v[1]],
            expected: PaperScheduleSweep.Seeds, rows: [["6", "0.001"], ["6", "0.002"], ["12", "0.001"], ["12", "0.002"]]);

    /// <summary>
    /// A training grid: best dev sequence error, teacher-forced accuracy there, final training loss, per seed, outcome.
    /// With <paramref name="rows"/>, those rows in that order, each counting the runs of its <paramref name="expected"/> seeds not yet finished.
    /// </summary>
    static MarkdownTable TrainingGrid(IReadOnlyList<RunRecord> runs, string[] keys, string[] headers, Func<string[], string[]> label,
        int expected = 0, string[][]? rows = null) =>
        new([.. headers, "dev sequence error %", "teacher-forced acc. %", "final train loss", "per seed %", "runs"],
            (rows is null ? Groups(runs, keys) : rows.Select(v => (Values: v, Runs: (IReadOnlyList<RunRecord>)runs
                .Where(r => keys.Select((k, i) => r.Config[k] == v[i]).All(same => same)).OrderBy(r => r.Seed).ToList())))
            .Select(g => (IReadOnlyList<string>)[.. label(g.Values),
                Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevTokenAccuracy), 1, 100),
                Cell.MeanSd(g.Runs.Where(r => r.State == RunState.Done).Select(r => FinalLoss(r)), 3),
                string.Join(" / ", g.Runs.Select(r => Cell.Number(100 * Training(r).DevSequenceError, 1) + (r.State == RunState.Diverged ? " (diverged)" : ""))),
                Outcome(g.Runs) + (g.Runs.Count < expected ? $"{(g.Runs.Count > 0 ? ", " : "")}{expected - g.Runs.Count} not run yet" : "")]).ToList());

    static MarkdownTable LayerNormVsBatchNorm(ReportSources s) =>
        new(["normalisation", "placement", "dev sequence error %", "teacher-forced dev acc. %", "dev loss (eval mode)", "final train loss (train mode)"],
            Groups(s.Runs(NormalizationSweep), "normalization", "norm").OrderByDescending(g => g.Values[0]).ThenByDescending(g => g.Values[1]).Select(g => (IReadOnlyList<string>)[
                g.Values[0] == "layer_norm" ? "LayerNorm" : "BatchNorm", g.Values[1] == "pre" ? "Pre" : "Post",
                Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevTokenAccuracy), 1, 100),
                Cell.MeanSd(Done(g.Runs, r => Training(r).DevLoss), 3), Cell.MeanSd(g.Runs.Select(r => FinalLoss(r)), 3)]).ToList());

    static double FinalLoss(RunRecord run) => run.TrainingCurve().Last(p => !double.IsNaN(p.Loss)).Loss;

    static string Placement(string norm) => norm == "post" ? "Post-LN" : "Pre-LN";
}
