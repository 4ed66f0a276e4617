using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>
/// Issue 36's review reruns of the long-reverse comparison of notebooks 09 and 10: each arm tuned on dev (tuning seed
/// 101, kept apart from the reported seeds), a budget of up to 12,000 steps it can converge in, early stopping after six
/// evaluations without a lower dev sequence error.
/// </summary>
public static partial class ExperimentsTables
{
    /// <summary>The long-reverse comparison's model and data (<see cref="LongReverseComparison"/>) with the rerun's budget: up to 12,000 steps, patience 6; lr and warm-up are tuned.</summary>
    static TrainingSettings LongReverseRerun(TrainingSettings s) => LongReverseComparison(s).WithLoop(l => l with { MaxSteps = 12000, Patience = 6 });

    /// <summary>The tuning grid every arm gets: peak lr × warm-up steps.</summary>
    static readonly (string, string)[] TuningGrid = [("lr", "0.0005,0.001,0.002"), ("warmup", "300,1000")];

    /// <summary>A sweep of the comparison as the tuning runs it: one tuning seed (101, apart from the reported 1–5), its grid times <see cref="TuningGrid"/>.</summary>
    static SweepSpec Tuned(SweepSpec sweep) =>
        sweep.WithAxes(TuningGrid) with { Seeds = 1, FirstSeed = 101 };

    /// <summary>
    /// The three tuning sweeps of experiments.md's rerun section, each with its arms and how a run names its arm: the
    /// Transformer with each encoder attention, then the baselines at notebook 09's sizes (<see cref="ArchitectureSweeps"/>).
    /// </summary>
    public static IReadOnlyList<(SweepSpec Sweep, string[] Arms, Func<RunRecord, string> Arm)> ReverseTuningSweeps =>
    [
        (Tuned(SweepSpec.Of("train", 1, LongReverseRerun, ("attention", "full,local,strided,linear,linformer"))),
            ["full", "local", "strided", "linear", "linformer"], r => r.Config["attention"]),
        .. ArchitectureSweeps(LongReverseRerun).Skip(1).Select(v => (Tuned(v.Sweep), new[] { v.Name }, (Func<RunRecord, string>)(_ => v.Name))),
    ];

    /// <summary>One arm's tuning: its label, its finished runs, how many settings its grid has, and the chosen run (null until all have finished).</summary>
    public sealed record ArmTuning(string Label, IReadOnlyList<RunRecord> Runs, int Settings, RunRecord? Chosen);

    /// <summary>Every arm's tuning as the store holds it, in the order of <see cref="ReverseTuningSweeps"/>; the choice is <see cref="TuningChoice"/>'s.</summary>
    public static IReadOnlyList<ArmTuning> ReverseTuningChoices(ReportSources s) =>
    [
        .. ReverseTuningSweeps.SelectMany(t =>
        {
            var finished = s.FinishedRuns(t.Sweep);
            var settingsPerArm = t.Sweep.Plan().Count / t.Arms.Length;
            return t.Arms.Select(name =>
            {
                var runs = finished.Where(r => t.Arm(r) == name).ToList();
                return new ArmTuning(t.Arms.Length > 1 ? $"Transformer, {name} attention" : name, runs, settingsPerArm,
                    TuningChoice.Choose(runs, settingsPerArm, r => r.State != RunState.Done, r => Training(r).DevSequenceError, r => Training(r).BestStep, r => Training(r).DevLoss));
            });
        }),
    ];

    /// <summary>
    /// The tuning runs, one row per arm and setting: the best dev sequence error and its step, the first step at which dev
    /// exact match reached 95 %, the dev token accuracy at the best step, where the run stopped. The arm's choice
    /// (<see cref="TuningChoice"/>) is marked once all six of its settings have finished; until then the arm says how many are still to run.
    /// </summary>
    static MarkdownTable ReverseTuning(ReportSources s)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var arm in ReverseTuningChoices(s))
        {
            foreach (var run in arm.Runs.OrderBy(r => r.TrainingSettings().Optimiser.Lr).ThenBy(r => r.TrainingSettings().Optimiser.Warmup))
            {
                var t = Training(run);
                var curve = run.TrainingCurve();
                var atBest = DevAtBest(run, curve);
                var reached = StepsToTarget(curve);
                rows.Add([arm.Label, run.Config["lr"], run.Config["warmup"],
                    Cell.Number(100 * t.DevSequenceError, 1), Cell.Number(t.BestStep, 0),
                    reached is null ? "not reached" : Cell.Number(reached.Value, 0),
                    atBest is null ? "–" : Cell.Number(100 * atBest.DevTokenAccuracy, 2),
                    Cell.Number(t.Steps, 0), run.State.ToString().ToLowerInvariant() + (run == arm.Chosen ? ", **chosen**" : "")]);
            }
            if (arm.Runs.Count < arm.Settings)
                rows.Add([arm.Label, "", "", "", "", "", "", "", $"{arm.Settings - arm.Runs.Count} of {arm.Settings} settings not finished yet: no choice"]);
        }
        return new(["arm", "peak lr", "warm-up", "best dev sequence error %", "at step", "first evaluated step at ≥ 95 % dev exact match", "dev token accuracy % at best (teacher-forced, whole dev set)",
            "steps run", "state"], rows);
    }

    /// <summary>The rerun's target: 95 % exact match on dev.</summary>
    public const double ExactMatchTarget = 0.95;

    /// <summary>The first evaluated step at which a run's dev exact match reached <see cref="ExactMatchTarget"/>; null if it never did.</summary>
    public static long? StepsToTarget(RunRecord run) => StepsToTarget(run.TrainingCurve());

    /// <summary><see cref="StepsToTarget(RunRecord)"/> on a curve already read (curve.csv is read once per run).</summary>
    static long? StepsToTarget(IEnumerable<TrainingCurvePoint> curve) => curve.FirstOrDefault(p => p.DevExactMatch >= ExactMatchTarget)?.Step;

    /// <summary>The dev evaluation at a run's best step (its curve's point), or null when the curve lacks it.</summary>
    static TrainingCurvePoint? DevAtBest(RunRecord run, IEnumerable<TrainingCurvePoint> curve) => curve.LastOrDefault(p => p.Step == (long)Training(run).BestStep);

    /// <summary>Seeds of the reported comparison: 1–5, apart from the tuning seed 101.</summary>
    public const int ReportedSeeds = 5;

    /// <summary>
    /// The reported comparison, one sweep per arm: the settings its tuning chose — the chosen run's settings exactly, the
    /// same budget and stopping rule — with seeds 1–5; then the end-of-source control, full and local attention at theirs
    /// with <c>source_eos=true</c>. An arm whose tuning has not finished has no sweep yet (null).
    /// </summary>
    public static IReadOnlyList<(string Arm, bool SourceEos, RunRecord? Tuned, SweepSpec? Sweep, string? Why)> ReverseReportedSweeps(ReportSources s)
    {
        var arms = ReverseTuningChoices(s);
        SweepSpec? Reported(RunRecord? tuned, bool sourceEos) => tuned is null ? null : ReportedSweep(tuned, sourceEos);
        string? Why(ArmTuning a) => a.Chosen is not null ? null
            : a.Runs.Count < a.Settings ? $"tuning not finished ({a.Runs.Count} of {a.Settings} settings)" : "every tuning run diverged: no setting to report";
        return
        [
            .. arms.Select(a => (a.Label, false, a.Chosen, Reported(a.Chosen, sourceEos: false), Why(a))),
            .. arms.Where(a => a.Label is "Transformer, full attention" or "Transformer, local attention")
                .Select(a => (a.Label + ", source_eos=true", true, a.Chosen, Reported(a.Chosen, sourceEos: true), Why(a))),
        ];
    }

    /// <summary>A tuned run's settings exactly, with seeds 1–5 (and every source ended by EOS when <paramref name="sourceEos"/>).</summary>
    public static SweepSpec ReportedSweep(RunRecord tuned, bool sourceEos) =>
        SweepSpec.Of("train", ReportedSeeds, d => tuned.TrainingSettings().WithTask(t => t with { SourceEos = t.SourceEos || sourceEos }) with { Seed = d.Seed });

    /// <summary>
    /// " (the grid's highest)" when a tuned value is the largest of its axis's values in <see cref="TuningGrid"/> (lowest
    /// likewise), for an axis of three or more: a better setting may lie beyond the grid. Empty otherwise.
    /// </summary>
    public static string AtGridEdge(string key, string value)
    {
        var axis = TuningGrid.Single(a => a.Item1 == key).Item2.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var x = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        return axis.Count < 3 ? "" : x == axis.Max() ? " (the grid's highest)" : x == axis.Min() ? " (the grid's lowest)" : "";
    }

    /// <summary>The reported comparison's commands, one per arm, as its tuning chose them (what the rerun runs next).</summary>
    static MarkdownTable ReverseReportedCommands(ReportSources s) =>
        new(["arm", "tuned peak lr, warm-up", "command (seeds 1–5)"],
            [.. ReverseReportedSweeps(s).Select(r => (IReadOnlyList<string>)[r.Arm,
                r.Tuned is null ? r.Why! : $"{r.Tuned.Config["lr"]}{AtGridEdge("lr", r.Tuned.Config["lr"])}, {r.Tuned.Config["warmup"]}",
                r.Sweep is null ? "–" : $"`{r.Sweep.CommandLine}`"])]);

    /// <summary>
    /// The reported comparison as it finishes: per arm, its seeds' best dev sequence error (mean, 95 % interval) and the difference from full
    /// attention paired by seed, with its interval and the verdict it allows (the end-of-source rows against full attention
    /// with source_eos=true); the steps to 95 % dev exact match, over the seeds that reached it; the dev token accuracy at
    /// the best step. An arm without finished runs says so.
    /// </summary>
    static MarkdownTable ReverseReported(ReportSources s) =>
        ReportedTable([.. ReverseReportedSweeps(s).Select(a => new ReportedArm(a.Arm, a.Sweep is null ? [] : s.FinishedRuns(a.Sweep), a.SourceEos))]);

    /// <summary>An arm of the reported comparison: its label, its finished runs, and whether every source ends with EOS — its baseline is the first arm of the table with the same.</summary>
    public sealed record ReportedArm(string Arm, IReadOnlyList<RunRecord> Runs, bool SourceEos = false);

    /// <summary>Each arm's chosen tuning run (tuning seed 101), in <see cref="ReverseTuningSweeps"/>'s order; none for an arm whose tuning has not finished.</summary>
    public static IReadOnlyList<(string Arm, IReadOnlyList<RunRecord> Runs)> ReverseTunedRuns(ReportSources s) =>
        [.. ReverseTuningChoices(s).Select(a => (a.Label, a.Chosen is null ? (IReadOnlyList<RunRecord>)[] : [a.Chosen]))];

    /// <summary>The reported comparison's finished runs, per arm in <see cref="ReverseReportedSweeps"/>'s order (none for an arm whose tuning has not finished).</summary>
    public static IReadOnlyList<(string Arm, IReadOnlyList<RunRecord> Runs)> ReverseReportedRuns(ReportSources s) =>
        [.. ReverseReportedSweeps(s).Select(a => (a.Arm, a.Sweep is null ? [] : s.FinishedRuns(a.Sweep)))];

    /// <summary>
    /// <see cref="ReverseReported"/>'s rows from each arm's finished runs (the first arm without EOS-ended sources, and the
    /// first with them, are the baselines). Dev readings choose the checkpoint (early stopping, best step); the test columns read what
    /// <c>research eval --checkpoint &lt;run&gt;/best.ckpt --split test</c> wrote for that checkpoint (<see cref="TestOf"/>), and
    /// stay empty, naming the runs still to evaluate, until every finished seed of the arm (and of its baseline) has it.
    /// </summary>
    public static MarkdownTable ReportedTable(IReadOnlyList<ReportedArm> arms)
    {
        IReadOnlyList<RunRecord> Baseline(ReportedArm arm) => arms.First(a => a.SourceEos == arm.SourceEos).Runs;
        static List<RunRecord> Done(IReadOnlyList<RunRecord> runs) => [.. runs.Where(r => r.State == RunState.Done)];
        var tests = arms.SelectMany(a => Done(a.Runs)).Distinct().ToDictionary(r => r, TestOf); // each evaluation file read once, baselines included
        string Unevaluated(IEnumerable<RunRecord> runs) => string.Join(", ", runs.Where(r => tests[r] is null).OrderBy(r => r.Seed).Select(r => $"seed {r.Seed}"));
        return new(["arm", "seeds finished", "best dev sequence error % (95 % CI)", "minus full attention, paired by seed",
                "steps to ≥ 95 % dev exact match (its first evaluation there; 95 % CI; seeds that reached it)", "dev token accuracy % at best (teacher-forced, whole dev set; 95 % CI)",
                "test sequence error % at the best dev checkpoint (95 % CI)", "test: minus full attention, paired by seed",
                "best dev step (95 % CI); where the runs stopped"],
            [.. arms.Select(a =>
            {
                var done = Done(a.Runs);
                var diverged = a.Runs.Count - done.Count; // finished without a usable model: counted, named, left out of every column
                var finished = $"{a.Runs.Count} of {ReportedSeeds}" + (diverged > 0 ? $" ({diverged} diverged)" : "");
                if (done.Count == 0) return (IReadOnlyList<string>)[a.Arm, finished, "", "", "", "", "", "", ""];
                var curves = done.Select(r => (Run: r, Curve: r.TrainingCurve())).ToList();
                var reached = curves.Select(c => StepsToTarget(c.Curve)).Where(s => s is not null).Select(s => (double)s!.Value).ToList();
                var atBest = curves.Select(c => DevAtBest(c.Run, c.Curve)).Where(p => p is not null).Select(p => p!.DevTokenAccuracy).ToList();
                var baseline = Baseline(a);
                var isBaseline = ReferenceEquals(baseline, a.Runs);
                var baselineDone = Done(baseline);
                var armUnevaluated = Unevaluated(done);
                var baselineUnevaluated = Unevaluated(baselineDone);
                return (IReadOnlyList<string>)[a.Arm, finished,
                    new Estimate([.. done.Select(r => Training(r).DevSequenceError)]).Format(2, 100, range: Estimate.Rate),
                    isBaseline ? BaselineCell(a.SourceEos)
                        : Estimate.Paired(baseline, done, r => Training(r).DevSequenceError).Verdict(2, 100, range: Estimate.RateDifference, higher: "higher", lower: "lower"),
                    reached.Count == 0 ? $"not reached (0 of {done.Count})" : $"{new Estimate(reached).Format(0)}; {reached.Count} of {done.Count}",
                    new Estimate(atBest).Format(2, 100, range: Estimate.Rate),
                    armUnevaluated.Length > 0 ? $"not evaluated yet: {armUnevaluated}" : new Estimate([.. done.Select(r => tests[r]!.SequenceError)]).Format(2, 100, range: Estimate.Rate),
                    isBaseline ? BaselineCell(a.SourceEos)
                        : armUnevaluated.Length > 0 || baselineUnevaluated.Length > 0 ? "waits for every seed's test evaluation"
                        : Estimate.Paired(baselineDone, done, r => tests[r]!.SequenceError).Verdict(2, 100, range: Estimate.RateDifference, higher: "higher", lower: "lower"),
                    $"{new Estimate([.. done.Select(r => Training(r).BestStep)]).Format(0, range: (0, done.Max(r => r.TrainingSettings().Loop.MaxSteps)))}; {Stopped(curves)}"];
            })]);
    }

    /// <summary>What a baseline's own row says in its difference columns: the end-of-source rows have their own.</summary>
    static string BaselineCell(bool sourceEos) => sourceEos ? "(the baseline of the source_eos rows)" : "(the baseline)";

    /// <summary>
    /// Where finished runs stopped: how many by the patience rule — the evaluations after its best used up the patience
    /// (<see cref="LoopSettings.OutOfPatience"/>, the trainer's own test), which can happen at the cap itself — and how many
    /// at the step cap with patience left: a run at the cap whose best step is near it was still improving.
    /// </summary>
    static string Stopped(IReadOnlyList<(RunRecord Run, IReadOnlyList<TrainingCurvePoint> Curve)> done)
    {
        var atCap = done.Count(d => !d.Run.TrainingSettings().Loop.OutOfPatience(d.Curve.Count(p => p.Step > (long)Training(d.Run).BestStep && !double.IsNaN(p.DevSequenceError))));
        var caps = string.Join(" / ", done.Select(d => d.Run.TrainingSettings().Loop.MaxSteps).Distinct().Order().Select(c => c.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
        return $"{done.Count - atCap} of {done.Count} by the patience rule, {atCap} at the {caps}-step cap";
    }

    /// <summary>
    /// A finished run's greedy float32 test readings at its best dev checkpoint, as <c>research eval</c> wrote them into the
    /// run's folder; null when there are none, or when they are of another checkpoint than the run's best.ckpt at its best
    /// step (an evaluation of an earlier best.ckpt, say, made while the run was still training, or of last.ckpt written
    /// there with --output) or another precision — never a number of another checkpoint or decoder.
    /// </summary>
    public static Evaluation.EvaluationSummary? TestOf(RunRecord run) =>
        Evaluation.EvaluationSummary.Read(Evaluation.EvaluationSummary.GreedyFile(run.Folder, "test")) is { } e && e.Split == "test" && e.Beam == 1
            && e.LengthPenalty == 0 && e.Precision == "fp32" && Path.GetFileName(e.Checkpoint) == "best.ckpt" && e.Step == (long)Training(run).BestStep ? e : null;
}
