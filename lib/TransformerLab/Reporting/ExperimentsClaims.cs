using TransformerLab.Model;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>
/// The sentences of experiments.md that state a number with its uncertainty or a direction, generated from the committed
/// runs like the tables: marked <c>&lt;!-- claim: name --&gt;</c> … <c>&lt;!-- /claim --&gt;</c> inside the prose,
/// rewritten by <c>research report</c> and checked by <c>report --check</c>. The words of a direction come from
/// <see cref="Estimate.Verdict"/>, so they cannot say more than the interval.
/// </summary>
public static class ExperimentsClaims
{
    public static readonly IReadOnlyDictionary<string, Func<ReportSources, string>> All = new Dictionary<string, Func<ReportSources, string>>
    {
        // the headline G2P model's greedy test WER, for the comparison with g2p-seq2seq's 30.2 %
        ["g2p-headline-test-wer"] = s => Estimate.Of(s.Runs(ExperimentsTables.G2pHeadlineSweep), r => r.Metrics["test_greedy_sequence_error"]).Format(2, 100, " %"),
        ["g2p-headline-beam-gain"] = s =>
        {
            var runs = s.Runs(ExperimentsTables.G2pHeadlineSweep);
            return new Estimate([.. runs.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed)
                .Select(r => r.Metrics["test_beam_sequence_error"] - r.Metrics["test_greedy_sequence_error"])]).Verdict(2, 100, higher: "beam 5 is worse", lower: "beam 5 is better");
        },
        ["architecture-g2p-lstm"] = s => Against(s, ExperimentsTables.ArchitectureG2pSweeps, 1, "dev WER"),
        ["architecture-g2p-cnn"] = s => Against(s, ExperimentsTables.ArchitectureG2pSweeps, 2, "dev WER"),
        ["architecture-reverse-lstm"] = s => Against(s, ExperimentsTables.ArchitectureReverseSweeps, 1, "dev sequence error"),
        ["architecture-reverse-cnn"] = s => Against(s, ExperimentsTables.ArchitectureReverseSweeps, 2, "dev sequence error"),
        ["attention-g2p-local"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "local", "local attention (r = 4)", "dev WER"),
        ["attention-g2p-strided"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "strided", "strided attention", "dev WER"),
        ["attention-g2p-linear"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "linear", "linear attention", "dev WER"),
        ["attention-g2p-linformer"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "linformer", "Linformer (rank 4)", "dev WER"),
        ["sequence-mrt-test-wer"] = s => "MRT, test WER: " + AgainstContinuedMle(s, "+ mrt", r => r.TestSequenceError).Verdict(2, 100),
        ["sequence-mrt-free-running"] = s => "MRT, free-running token accuracy on test: " + AgainstContinuedMle(s, "+ mrt", r => r.FreeRunningAccuracy).Verdict(2, 100),
        ["sequence-reinforce-test-wer"] = s => "REINFORCE, test WER: " + AgainstContinuedMle(s, "+ reinforce", r => r.TestSequenceError).Verdict(2, 100),
        ["architecture-parameters"] = s =>
        {
            string Largest(IReadOnlyList<ArchitectureVariant> sweeps)
            {
                double Parameters(SweepSpec sweep) => s.Runs(sweep).First().Metrics["parameters"];
                var transformer = Parameters(sweeps[0].Sweep);
                return string.Join(", ", sweeps.Skip(1).Select(v => $"{v.Name} {Cell.Signed(100 * (Parameters(v.Sweep) / transformer - 1), 1)} %"));
            }
            return $"G2P: {Largest(ExperimentsTables.ArchitectureG2pSweeps)}; reverse: {Largest(ExperimentsTables.ArchitectureReverseSweeps)}";
        },
    };

    /// <summary>Variant <paramref name="index"/> of a comparison against its first (the Transformer), paired by seed, in points of the error.</summary>
    static string Against(ReportSources s, IReadOnlyList<ArchitectureVariant> sweeps, int index, string metric) =>
        $"{sweeps[index].Name}: " + Estimate.Paired(s.Runs(sweeps[0].Sweep), s.Runs(sweeps[index].Sweep), r => r.TrainingReadings().DevSequenceError)
            .Verdict(2, 100, higher: $"higher {metric} than the Transformer", lower: $"lower {metric} than the Transformer");

    /// <summary>One encoder attention of <paramref name="sweep"/> against full attention, paired by seed, in points of the error.</summary>
    static string AgainstFull(ReportSources s, SweepSpec sweep, string kind, string name, string metric)
    {
        var runs = s.Runs(sweep);
        return $"{name}: " + Estimate.Paired(runs.Where(r => r.Config["attention"] == "full"), runs.Where(r => r.Config["attention"] == kind), r => r.TrainingReadings().DevSequenceError)
            .Verdict(2, 100, higher: $"higher {metric} than full attention", lower: $"lower {metric} than full attention");
    }

    /// <summary>A fine-tuning of notebook 11's sweep minus continued MLE, per seed (objectives.csv of each run), as an estimate.</summary>
    static Estimate AgainstContinuedMle(ReportSources s, string model, Func<SequenceTrainingExperiment.ObjectiveRow, double> value) =>
        new([.. s.Runs(ExperimentsTables.SequenceTrainingG2pSweep).Where(r => r.State == RunState.Done).OrderBy(r => r.Seed)
            .Select(SequenceTrainingExperiment.Objectives)
            .Select(rows => value(rows.Single(o => o.Model == model)) - value(rows.Single(o => o.Model == SequenceTrainingExperiment.ModelName(TrainingObjective.Mle))))]);
}
