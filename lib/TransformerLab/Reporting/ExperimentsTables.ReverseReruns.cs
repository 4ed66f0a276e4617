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

    /// <summary>
    /// The tuning runs, one row per arm and setting: the best dev sequence error and its step, the first step at which dev
    /// exact match reached 95 %, the dev token accuracy at the best step, where the run stopped. The arm's choice
    /// (<see cref="TuningChoice"/>) is marked once all six of its settings have finished; until then the arm says how many are still to run.
    /// </summary>
    static MarkdownTable ReverseTuning(ReportSources s)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (sweep, arms, arm) in ReverseTuningSweeps)
        {
            var finished = s.FinishedRuns(sweep);
            var settingsPerArm = sweep.Plan().Count / arms.Length;
            foreach (var name in arms)
            {
                var label = arms.Length > 1 ? $"Transformer, {name} attention" : name;
                var runs = finished.Where(r => arm(r) == name).ToList();
                var chosen = TuningChoice.Choose(runs, settingsPerArm, r => r.State != RunState.Done, r => Training(r).DevSequenceError, r => Training(r).BestStep);
                foreach (var run in runs.OrderBy(r => double.Parse(r.Config["lr"], System.Globalization.CultureInfo.InvariantCulture)).ThenBy(r => int.Parse(r.Config["warmup"])))
                {
                    var t = Training(run);
                    var curve = run.TrainingCurve();
                    var reached = curve.FirstOrDefault(p => p.DevExactMatch >= 0.95);
                    var atBest = curve.LastOrDefault(p => p.Step == (long)t.BestStep);
                    rows.Add([label, run.Config["lr"], run.Config["warmup"],
                        Cell.Number(100 * t.DevSequenceError, 1), Cell.Number(t.BestStep, 0),
                        reached is null ? "not reached" : Cell.Number(reached.Step, 0),
                        atBest is null ? "–" : Cell.Number(100 * atBest.DevTokenAccuracy, 2),
                        Cell.Number(t.Steps, 0), run.State.ToString().ToLowerInvariant() + (run == chosen ? ", **chosen**" : "")]);
                }
                if (runs.Count < settingsPerArm)
                    rows.Add([label, "", "", "", "", "", "", "", $"{settingsPerArm - runs.Count} of {settingsPerArm} settings not finished yet: no choice"]);
            }
        }
        return new(["arm", "peak lr", "warm-up", "best dev sequence error %", "at step", "first step at ≥ 95 % dev exact match", "dev token accuracy % at best",
            "steps run", "state"], rows);
    }
}
