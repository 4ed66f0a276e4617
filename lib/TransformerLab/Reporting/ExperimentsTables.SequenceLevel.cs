using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebooks 11 and 12 and the precision study: sequence-level training, guided attention, copying, bf16.</summary>
public static partial class ExperimentsTables
{
    /// <summary>Notebook 11: the small G2P model trained by MLE, then fine-tuned by continued MLE, MRT and REINFORCE (the experiment's defaults).</summary>
    /// <summary>Notebook 11: each fine-tuning 500 steps (half the setting's default; the sequence-level steps are the slowest of the workspace).</summary>
    public static readonly SweepSpec SequenceTrainingG2pSweep = SweepSpec.Of("sequence-training", 3, s => s.WithSequence(q => q with { FinetuneSteps = 500 }) with { Threads = 1 });

    /// <summary>Notebook 12: the small G2P model without and with guided attention (λ = 10), 1,500 steps; seeds 4 and 5 added for issue 36.</summary>
    public static readonly SweepSpec GuidedAttentionG2pSweep = SweepSpec.Of("guided-attention", 5, s => s with { Threads = 1 }, ("guided_attention", "0,10"));

    /// <summary>Notebook 12: the names task without and with the copy mechanism.</summary>
    public static readonly SweepSpec CopyingNamesSweep = SweepSpec.Of("copying", 3, s => s with { Threads = 1 }, ("copy", "false,true"));

    public static readonly SweepSpec PrecisionSweep = SweepSpec.Of("precision", 3, s => s with { Threads = 1 }, ("precision", "fp32,bf16"));

    /// <summary>fp32 against mixed bf16 on the small G2P model, paired by seed; run over sittings, so partial rows say what is still to run.</summary>
    static MarkdownTable GuidedAttentionG2p(ReportSources s) => GuidedAttention(s.FinishedRuns(GuidedAttentionG2pSweep), GuidedAttentionG2pSweep.Seeds);

    static MarkdownTable CopyingNames(ReportSources s) => Copying(s.FinishedRuns(CopyingNamesSweep), CopyingNamesSweep.Seeds);

    static MarkdownTable PrecisionG2p(ReportSources s)
    {
        var runs = s.FinishedRuns(PrecisionSweep);
        IReadOnlyList<RunRecord> Of(string precision) => runs.Where(r => r.Config["precision"] == precision).OrderBy(r => r.Seed).ToList();
        var (fp32, bf16) = (Of("fp32"), Of("bf16"));
        static PrecisionExperiment.Readings Test(RunRecord r) => PrecisionExperiment.ReadingsOf(r);
        IReadOnlyList<string> Row(string name, IReadOnlyList<RunRecord> g) =>
        [
            name, Cell.MeanSd(Done(g, r => Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g, r => Test(r).TestSequenceError), 2, 100),
            Cell.MeanSd(Done(g, r => Test(r).TestSymbolError), 2, 100), Cell.PerSeed(Done(g, r => Test(r).TestSequenceError), 2, 100),
            Outcome(g) + (g.Count < PrecisionSweep.Seeds ? $"{(g.Count > 0 ? ", " : "")}{PrecisionSweep.Seeds - g.Count} not run yet" : ""),
        ];
        return new(["precision", "dev WER % (best)", "test WER %", "test PER %", "per seed, test WER %", "runs"],
        [
            Row("fp32", fp32), Row("bf16 (mixed)", bf16),
            ["bf16 − fp32, paired by seed", Cell.RateDifference(Analysis.Paired(fp32, bf16, r => Training(r).DevSequenceError), 2),
             Cell.RateDifference(Analysis.Paired(fp32, bf16, r => Test(r).TestSequenceError), 2),
             Cell.RateDifference(Analysis.Paired(fp32, bf16, r => Test(r).TestSymbolError), 2),
             string.Join(" / ", Analysis.Paired(fp32, bf16, r => Test(r).TestSequenceError).Select(d => Cell.Signed(100 * d, 2))), ""],
        ]);
    }

    /// <summary>
    /// The MLE model and its three fine-tunings, each chosen on dev and measured once on test; differences paired by seed
    /// against continued MLE, the control with the same extra steps. Run over sittings: partial rows say what is to come.
    /// </summary>
    static MarkdownTable SequenceTrainingG2p(ReportSources s) => SequenceTraining(s.FinishedRuns(SequenceTrainingG2pSweep), SequenceTrainingG2pSweep.Seeds, "WER", "PER");

    /// <summary>Notebook 11's table for any set of <c>sequence-training</c> runs (<paramref name="seeds"/> expected per row).</summary>
    public static MarkdownTable SequenceTraining(IReadOnlyList<RunRecord> finished, int seeds, string sequenceError, string symbolError)
    {
        var runs = finished.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed).ToList();
        var rows = runs.Select(r => SequenceTrainingExperiment.Objectives(r).ToDictionary(o => o.Model)).ToList();
        var control = SequenceTrainingExperiment.ModelName(TrainingObjective.Mle);
        IEnumerable<double> Of(string model, Func<SequenceTrainingExperiment.ObjectiveRow, double> value) =>
            rows.Where(r => r.ContainsKey(model)).Select(r => value(r[model]));
        IReadOnlyList<double> AgainstMle(string model, Func<SequenceTrainingExperiment.ObjectiveRow, double> value) =>
            rows.Where(r => r.ContainsKey(model) && r.ContainsKey(control)).Select(r => value(r[model]) - value(r[control])).ToList();
        var missing = seeds - runs.Count;
        return new(["model", $"best dev {sequenceError} %", $"test {sequenceError} %", $"test {symbolError} %", $"test {sequenceError} minus {SequenceTrainingExperiment.DisplayName(control)}, paired (points)",
                "exposure gap (points)", $"per seed, test {sequenceError} %", "runs"],
            SequenceTrainingExperiment.Models.Select(model => (IReadOnlyList<string>)[SequenceTrainingExperiment.DisplayName(model),
                Cell.MeanSd(Of(model, o => o.DevSequenceError), 2, 100), Cell.MeanSd(Of(model, o => o.TestSequenceError), 2, 100), Cell.MeanSd(Of(model, o => o.TestSymbolError), 2, 100),
                model != SequenceTrainingExperiment.Models[0] && model != control ? Cell.RateDifference(AgainstMle(model, o => o.TestSequenceError), 2) : "–",
                Cell.MeanSd(Of(model, o => o.TeacherForcedAccuracy - o.FreeRunningAccuracy), 2, 100),
                Cell.PerSeed(Of(model, o => o.TestSequenceError), 1, 100),
                $"{rows.Count(r => r.ContainsKey(model))} done" + (missing > 0 ? $", {missing} not run yet" : "")]).ToList());
    }

    /// <summary>
    /// Notebook 12's guided-attention table for any <c>guided-attention</c> runs: per λ, the dev error at the first
    /// evaluation and at its best, the best paired by seed against λ = 0, and the share of cross-attention on the diagonal
    /// band at the first and the last evaluation.
    /// </summary>
    public static MarkdownTable GuidedAttention(IReadOnlyList<RunRecord> finished, int seeds)
    {
        var groups = finished.GroupBy(r => r.Config["guided_attention"]).OrderBy(g => double.Parse(g.Key, System.Globalization.CultureInfo.InvariantCulture))
            .Select(g => (Name: g.Key, Runs: (IReadOnlyList<RunRecord>)g.OrderBy(r => r.Seed).ToList())).ToList();
        if (groups.Count == 0) return new(["guided attention λ", "runs"], [["–", "none finished yet"]]);
        var first = groups[0];
        double FirstDev(RunRecord r) => r.TrainingCurve().First(p => !double.IsNaN(p.DevSequenceError)).DevSequenceError;
        double Share(RunRecord r, bool last) => (last ? GuidedAttentionExperiment.Diagonality(r)[^1] : GuidedAttentionExperiment.Diagonality(r)[0]).DiagonalShare;
        return new(["guided attention λ", "dev WER % at the first evaluation", "best dev WER %", $"best WER minus λ = {first.Name}, paired (points)", "per seed, best dev WER %",
                "attention on the diagonal band, first → last evaluation (%)", "runs"],
            groups.Select(g => (IReadOnlyList<string>)[g.Name, Cell.MeanSd(Done(g.Runs, FirstDev), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 2, 100),
                g.Name == first.Name ? "–" : Cell.RateDifference(Analysis.Paired(first.Runs, g.Runs, r => Training(r).DevSequenceError), 2),
                Cell.PerSeed(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100),
                $"{Cell.MeanSd(Done(g.Runs, r => Share(r, last: false)), 1, 100)} → {Cell.MeanSd(Done(g.Runs, r => Share(r, last: true)), 1, 100)}",
                Outcome(g.Runs) + (g.Runs.Count < seeds ? $", {seeds - g.Runs.Count} not run yet" : "")]).ToList());
    }

    /// <summary>Notebook 12's copying table for any <c>copying</c> runs: greedy test errors overall and by whether an item's names were seen, and name recall.</summary>
    public static MarkdownTable Copying(IReadOnlyList<RunRecord> finished, int seeds)
    {
        var groups = new[] { "false", "true" }.Select(c => (Name: c == "true" ? "with copying (pointer-generator)" : "without copying",
            Runs: (IReadOnlyList<RunRecord>)finished.Where(r => r.Config["copy"] == c).OrderBy(r => r.Seed).ToList())).ToList();
        CopyingExperiment.Readings R(RunRecord r) => CopyingExperiment.ReadingsOf(r);
        return new(["model", "test sequence error %", "sequence error, items with only seen names %", "sequence error, items with an unseen name %", "unseen names recalled %", "seen names recalled %",
                "test error minus without copying, paired (points)", "runs"],
            groups.Select(g => (IReadOnlyList<string>)[g.Name, Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceError), 2, 100),
                Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceErrorSeenNames), 2, 100), Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceErrorUnseenName), 2, 100),
                Cell.MeanSd(Done(g.Runs, r => R(r).UnseenNameRecall), 2, 100), Cell.MeanSd(Done(g.Runs, r => R(r).SeenNameRecall), 2, 100),
                g.Name == groups[0].Name ? "–" : Cell.RateDifference(Analysis.Paired(groups[0].Runs, g.Runs, r => R(r).TestSequenceError), 2),
                Outcome(g.Runs) + (g.Runs.Count < seeds ? $"{(g.Runs.Count > 0 ? ", " : "")}{seeds - g.Runs.Count} not run yet" : "")]).ToList());
    }
}
