using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>The G2P headline (chosen on dev, measured once on test) and the synthetic tasks.</summary>
public static partial class ExperimentsTables
{
    /// <summary>The synthetic tasks' model and schedule: d_model 128, d_ff 512, 2 + 2 layers, batch 64, 400 warm-up steps, no label smoothing.</summary>
    static TrainingSettings SyntheticTasks(TrainingSettings s, double lr, int steps, int evalEvery) => s
        .WithTransformer(m => m with { DModel = 128, DFF = 512, EncoderLayers = 2, DecoderLayers = 2 })
        .WithLoop(l => l with { BatchSize = 64, MaxSteps = steps, EvalEvery = evalEvery })
        .WithOptimiser(o => o with { Warmup = 400, Lr = lr })
        .WithLabelSmoothing(0);

    /// <summary>Copy and reverse: the first command of their section, then reverse with more steps and a higher peak lr.</summary>
    public static readonly IReadOnlyList<SweepSpec> SyntheticTaskSweeps =
    [
        SweepSpec.Of("train", 3, s => SyntheticTasks(s, lr: 0.001, steps: 3000, evalEvery: 500), ("task", "copy,reverse")),
        SweepSpec.Of("train", 3, s => SyntheticTasks(s, lr: 0.001, steps: 5000, evalEvery: 1000), ("task", "reverse")),
        SweepSpec.Of("train", 3, s => SyntheticTasks(s, lr: 0.002, steps: 3000, evalEvery: 500), ("task", "reverse")),
        SweepSpec.Of("train", 3, s => SyntheticTasks(s, lr: 0.002, steps: 5000, evalEvery: 1000), ("task", "reverse")),
    ];

    /// <summary>The G2P headline: the g2p defaults with d_ff 512 for 11,000 steps, chosen on dev, measured once on test.</summary>
    public static readonly SweepSpec G2pHeadlineSweep = SweepSpec.Of("test", 3,
        s => s.WithTransformer(m => m with { DFF = 512 }).WithLoop(l => l with { MaxSteps = 11000, EvalEvery = 2000 }) with { Threads = 1 });

    /// <summary>
    /// Copy and reverse by configuration: dev at the best checkpoint, and test exact match per seed where
    /// <c>research eval --checkpoint &lt;run&gt;/best.ckpt --split test</c> wrote its summary into the run folder (<see cref="TestOf"/>: of that checkpoint, greedy, float32).
    /// </summary>
    static MarkdownTable SyntheticTaskTable(ReportSources s) =>
        new(["task, steps, peak lr", "dev exact match %", "dev symbol error %", "best step per seed", "test exact match %, seeds 1 / 2 / 3", "training time per run"],
            SyntheticTaskSweeps.SelectMany(sweep => Groups(s.Runs(sweep), "task").Select(g =>
            {
                var settings = g.Runs[0].TrainingSettings();
                var tests = g.Runs.Select(r => r.State == RunState.Done ? TestOf(r) : null).ToList();
                return (IReadOnlyList<string>)[$"{g.Values[0]}, {settings.Loop.MaxSteps:N0}, {settings.Optimiser.Lr:0.###}",
                    Cell.MeanSd(Done(g.Runs, r => 1 - Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 3, 100),
                    Cell.PerSeed(Done(g.Runs, r => Training(r).BestStep), 0),
                    tests.All(t => t is null) ? "not measured" : string.Join(" / ", tests.Select(t => t is null ? "–" : Cell.Number(100 * t.ExactMatch, 1))),
                    Cell.MeanSd(Done(g.Runs, r => Training(r).TrainSeconds), 0) + " s"];
            })).ToList());

    /// <summary>The G2P headline over seeds: the dev-chosen checkpoint, then test once; partial rows say what is still to run.</summary>
    static MarkdownTable G2pHeadline(ReportSources s)
    {
        var runs = s.FinishedRuns(G2pHeadlineSweep).OrderBy(r => r.Seed).ToList();
        static HeldOutTestExperiment.Readings Test(RunRecord r) => HeldOutTestExperiment.ReadingsOf(r);
        var done = runs.Where(r => r.State == RunState.Done).ToList();
        return new(["", "mean ± sd", "per seed"],
        [
            ["best dev WER % (greedy, all dev words)", Cell.MeanSd(done.Select(r => Training(r).DevSequenceError), 2, 100), Cell.PerSeed(done.Select(r => Training(r).DevSequenceError), 2, 100)],
            ["chosen step (lowest dev WER)", Cell.MeanSd(done.Select(r => Training(r).BestStep), 0), Cell.PerSeed(done.Select(r => Training(r).BestStep), 0)],
            ["test WER %, greedy", Cell.MeanSd(done.Select(r => Test(r).TestGreedySequenceError), 2, 100), Cell.PerSeed(done.Select(r => Test(r).TestGreedySequenceError), 2, 100)],
            ["test PER %, greedy", Cell.MeanSd(done.Select(r => Test(r).TestGreedySymbolError), 2, 100), Cell.PerSeed(done.Select(r => Test(r).TestGreedySymbolError), 2, 100)],
            [$"test WER %, beam {HeldOutTestExperiment.Beam}", Cell.MeanSd(done.Select(r => Test(r).TestBeamSequenceError), 2, 100), Cell.PerSeed(done.Select(r => Test(r).TestBeamSequenceError), 2, 100)],
            [$"test PER %, beam {HeldOutTestExperiment.Beam}", Cell.MeanSd(done.Select(r => Test(r).TestBeamSymbolError), 2, 100), Cell.PerSeed(done.Select(r => Test(r).TestBeamSymbolError), 2, 100)],
            [$"beam {HeldOutTestExperiment.Beam} − greedy, test WER (points, paired by seed)", Cell.RateDifference(done.Select(r => Test(r).TestBeamSequenceError - Test(r).TestGreedySequenceError).ToList(), 2),
             string.Join(" / ", done.Select(r => Cell.Signed(100 * (Test(r).TestBeamSequenceError - Test(r).TestGreedySequenceError), 2)))],
            ["training time (evaluations included)", Cell.MeanSd(done.Select(r => Training(r).TrainSeconds / 60), 1) + " min", Cell.PerSeed(done.Select(r => Training(r).TrainSeconds / 60), 1)],
            ["target tokens/s", Cell.MeanSd(done.Select(r => Training(r).TokensPerSecond), 0), Cell.PerSeed(done.Select(r => Training(r).TokensPerSecond), 0)],
            ["runs", Outcome(runs) + (runs.Count < G2pHeadlineSweep.Seeds ? $"{(runs.Count > 0 ? ", " : "")}{G2pHeadlineSweep.Seeds - runs.Count} not finished yet" : ""), ""],
        ]);
    }

    /// <summary>The headline runs' dev curve: greedy WER and PER on all dev words at each evaluation, mean ± sd over the finished runs.</summary>
    static MarkdownTable G2pHeadlineDev(ReportSources s)
    {
        var curves = s.FinishedRuns(G2pHeadlineSweep).Where(r => r.State == RunState.Done).OrderBy(r => r.Seed)
            .Select(r => r.TrainingCurve().Where(p => !double.IsNaN(p.DevSequenceError)).ToList()).ToList();
        var steps = curves.SelectMany(c => c.Select(p => p.Step)).Distinct().Order().ToList();
        IEnumerable<TrainingCurvePoint> At(long step) => curves.Select(c => c.Single(p => p.Step == step));
        return new(["step", .. steps.Select(step => step.ToString("N0"))],
        [
            ["dev WER %", .. steps.Select(step => Cell.MeanSd(At(step).Select(p => p.DevSequenceError), 2, 100))],
            ["dev PER %", .. steps.Select(step => Cell.MeanSd(At(step).Select(p => p.DevSymbolError), 2, 100))],
        ]);
    }
}
