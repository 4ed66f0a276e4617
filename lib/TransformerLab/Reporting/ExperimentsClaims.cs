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
        // the headline G2P model: its greedy test WER (against g2p-seq2seq's 30.2 %) and what beam 5 changes
        ["g2p-headline-test-wer"] = s => Estimate.Of(s.Runs(ExperimentsTables.G2pHeadlineSweep), r => r.Metrics["test_greedy_sequence_error"]).Format(2, 100, " %", Estimate.Rate),
        ["g2p-headline-beam-gain"] = s =>
        {
            var runs = s.Runs(ExperimentsTables.G2pHeadlineSweep);
            return Within(runs, r => r.Metrics["test_beam_sequence_error"] - r.Metrics["test_greedy_sequence_error"]).Verdict(2, 100, range: Estimate.RateDifference, higher: "beam 5 is worse", lower: "beam 5 is better");
        },

        // notebook 00, the precision study: mixed bf16 against fp32 on the small G2P model
        ["precision-bf16"] = s =>
        {
            var runs = s.FinishedRuns(ExperimentsTables.PrecisionSweep);
            string Versus(Func<RunRecord, double> value) => Between(runs, "precision", "fp32", "bf16", value, "higher with bf16", "lower with bf16");
            return $"test WER: {Versus(r => PrecisionExperiment.ReadingsOf(r).TestSequenceError)}; test PER: {Versus(r => PrecisionExperiment.ReadingsOf(r).TestSymbolError)}; "
                + $"best dev WER: {Versus(r => r.TrainingReadings().DevSequenceError)}";
        },

        // notebook 05: placement at 2 layers, warm-up for 12-layer Pre-LN (300 steps against none, per peak lr), the paper's schedule against the grid's at 6 layers
        ["ln-2-placement"] = s =>
        {
            return "Post-LN against Pre-LN, 2 layers, lr 0.002, no warm-up: " + Between(s.Runs(ExperimentsTables.TwoLayerPlacementSweep), "norm", "pre", "post", // seeds 1–5 (issue 36)
                r => r.TrainingReadings().DevSequenceError, "higher dev sequence error with Post-LN", "lower dev sequence error with Post-LN", decimals: 1);
        },
        ["ln-pre-12-warmup"] = s => string.Join("; ", new[] { "0.0005", "0.001", "0.002" }.Select(lr =>
        {
            IReadOnlyList<RunRecord> cell = lr == "0.001" ? s.Runs(ExperimentsTables.TwelveLayerPreLnWarmupSweep) // seeds 1–5 (issue 36); the other two cells seeds 1–3
                : s.Runs(ExperimentsTables.LayerNormGridSweep).Where(r => r.Config["norm"] == "pre" && r.Config["encoder_layers"] == "12" && r.Config["lr"] == lr).ToList();
            return $"lr {lr}: " + Between(cell, "warmup", "0", "300", r => r.TrainingReadings().DevSequenceError,
                "higher dev sequence error with warm-up", "lower dev sequence error with warm-up", decimals: 1);
        })),
        ["ln-post-6-paper-schedule"] = s => string.Join("; ", new[] { "0.001", "0.002" }.Select(lr =>
            $"lr {lr}: " + Estimate.Paired(
                s.Runs(ExperimentsTables.LayerNormGridSweep).Where(r => r.Config["norm"] == "post" && r.Config["encoder_layers"] == "6" && r.Config["lr"] == lr && r.Config["warmup"] == "300"),
                s.FinishedRuns(ExperimentsTables.PaperScheduleSweep).Where(r => r.Config["encoder_layers"] == "6" && r.Config["lr"] == lr), r => r.TrainingReadings().DevSequenceError)
            .Verdict(1, 100, range: Estimate.RateDifference, higher: "higher dev sequence error with the paper's schedule", lower: "lower dev sequence error with the paper's schedule"))),

        // notebook 06: the NAT against the AT, each NAT setting against the same run's one-shot NAT (refinement.csv), the NAT alone's decoder input and length rule
        ["nat-g2p-vs-at"] = s => AgainstAt(s, ExperimentsTables.AtVsNatG2p, "WER"),
        ["nat-reverse-vs-at"] = s => AgainstAt(s, ExperimentsTables.AtVsNatReverse, "sequence error"),
        ["nat-g2p-settings"] = s => NatSettings(s, ExperimentsTables.AtVsNatG2p),
        ["nat-reverse-settings"] = s => NatSettings(s, ExperimentsTables.AtVsNatReverse),
        ["nat-decoder-input"] = s => "position-only queries against the uniform copy: " + Between(s.Runs(ExperimentsTables.NatDecoderInputSweep), "nat_decoder_input", "uniform_copy", "position_queries",
            r => r.TrainingReadings().DevSequenceError, "higher dev sequence error", "lower dev sequence error"),
        ["nat-length-rule"] = s => "cut at the first EOS against the offset classifier: " + Between(s.Runs(ExperimentsTables.NatLengthRuleSweep), "length_prediction", "offset", "cut_at_eos",
            r => r.TrainingReadings().DevSequenceError, "higher dev sequence error", "lower dev sequence error"),

        // notebook 07: scheduled sampling against teacher forcing, paired by seed (test set)
        ["ss-reverse-argmax"] = s => "argmax scheduled sampling, test sequence error: " + AgainstTeacherForcing(s, ExperimentsTables.ScheduledSamplingSweep, r => ExposureBiasExperiment.ReadingsOf(r).TestSequenceError)
            + "; test symbol error: " + AgainstTeacherForcing(s, ExperimentsTables.ScheduledSamplingSweep, r => ExposureBiasExperiment.ReadingsOf(r).TestSymbolError),
        ["ss-reverse-gap"] = s => "argmax scheduled sampling, teacher-forced minus free-running dev token accuracy: " + AgainstTeacherForcing(s, ExperimentsTables.ScheduledSamplingSweep, r => ExposureBiasExperiment.ReadingsOf(r).AccuracyGap),
        ["ss-reverse-sampled"] = s => "scheduled sampling with sampled predictions, test sequence error: " + Estimate.Paired(
            s.Runs(ExperimentsTables.ScheduledSamplingSweep).Where(r => r.Config["decoder_input"] == "teacher_forcing"), s.Runs(ExperimentsTables.SampledPredictionsSweep),
            r => ExposureBiasExperiment.ReadingsOf(r).TestSequenceError).Verdict(2, 100, range: Estimate.RateDifference, higher: "higher than teacher forcing", lower: "lower than teacher forcing"),
        ["ss-g2p"] = s => "test WER: " + AgainstTeacherForcing(s, ExperimentsTables.ScheduledSamplingG2pSweep, r => ExposureBiasExperiment.ReadingsOf(r).TestSequenceError)
            + "; test PER: " + AgainstTeacherForcing(s, ExperimentsTables.ScheduledSamplingG2pSweep, r => ExposureBiasExperiment.ReadingsOf(r).TestSymbolError),

        // notebook 08: beam search and sampling against greedy, and the beam's own five best against five samples as candidate sets
        ["decoding-beam"] = s => string.Join("; ", new[] { 2, 4, 8 }.Select(beam => $"beam {beam}: " + Within(s.Runs(ExperimentsTables.DecodingSweep), r =>
            DecodingExperiment.Beams(r).Single(b => b.Beam == beam && b.LengthPenalty == 0).SequenceError - DecodingExperiment.Beams(r).Single(b => b.Beam == 1 && b.LengthPenalty == 0).SequenceError)
            .Verdict(2, 100, range: Estimate.RateDifference, higher: "higher test WER than greedy", lower: "lower test WER than greedy"))),
        ["decoding-sampling"] = s => string.Join("; ", DecodingExperiment.SamplingGrid.Select(g =>
            $"one sample at T {g.Temperature:0.#}{(g.TopK > 0 ? $", top-k {g.TopK}" : g.TopP > 0 ? $", top-p {g.TopP:0.#}" : "")}: " + Within(s.Runs(ExperimentsTables.DecodingSweep), r =>
                DecodingExperiment.SamplingRows(r).Single(x => x.Temperature == g.Temperature && x.TopK == g.TopK && x.TopP == g.TopP).SequenceError
                - DecodingExperiment.Beams(r).Single(b => b.Beam == 1 && b.LengthPenalty == 0).SequenceError)
            .Verdict(2, 100, range: Estimate.RateDifference, higher: "higher test WER than greedy", lower: "lower test WER than greedy"))),
        ["decoding-oracle"] = s => string.Join("; ", DecodingExperiment.SamplingGrid.Where(g => g.TopK > 0 || g.TopP > 0).Select(g =>
            $"against five samples at T {g.Temperature:0.#}{(g.TopK > 0 ? $", top-k {g.TopK}" : $", top-p {g.TopP:0.#}")}: " + Within(s.Runs(ExperimentsTables.DecodingSweep), r =>
                DecodingExperiment.BeamOracle(r).Single(o => o.Candidates == DecodingExperiment.OracleCandidates).OracleSequenceError
                - DecodingExperiment.SamplingRows(r).Single(x => x.Temperature == g.Temperature && x.TopK == g.TopK && x.TopP == g.TopP).OracleSequenceError)
            .Verdict(2, 100, range: Estimate.RateDifference, higher: "the beam's five best miss more often", lower: "the beam's five best miss less often"))),

        // notebook 09: the LSTM and the convolutional model against the Transformer at (nearly) equal size, and those sizes
        ["architecture-g2p-lstm"] = s => Against(s, ExperimentsTables.ArchitectureG2pSweeps, 1, "dev WER"),
        ["architecture-g2p-cnn"] = s => Against(s, ExperimentsTables.ArchitectureG2pSweeps, 2, "dev WER"),
        ["architecture-reverse-lstm"] = s => Against(s, ExperimentsTables.ArchitectureReverseSweeps, 1, "dev sequence error"),
        ["architecture-reverse-cnn"] = s => Against(s, ExperimentsTables.ArchitectureReverseSweeps, 2, "dev sequence error"),
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

        // notebook 10: each efficient encoder attention against full attention
        ["attention-g2p-local"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "local", "local attention (r = 4)", "dev WER"),
        ["attention-g2p-strided"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "strided", "strided attention", "dev WER"),
        ["attention-g2p-linear"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "linear", "linear attention", "dev WER"),
        ["attention-g2p-linformer"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionSweep, "linformer", "Linformer (rank 4)", "dev WER"),
        ["attention-reverse-local"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionReverseSweep, "local", "local attention (r = 8)", "dev sequence error"),
        ["attention-reverse-strided"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionReverseSweep, "strided", "strided attention", "dev sequence error"),
        ["attention-reverse-linear"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionReverseSweep, "linear", "linear attention", "dev sequence error"),
        ["attention-reverse-linformer"] = s => AgainstFull(s, ExperimentsTables.EncoderAttentionReverseSweep, "linformer", "Linformer (rank 8)", "dev sequence error"),

        // notebooks 09 and 10, issue 36's rerun on long reverse: each arm at its tuned setting against full attention at its own,
        // the end-of-source rows against full attention with EOS; and what the EOS changes for full and for local attention
        ["rerun-reverse-progress"] = RerunProgress,
        ["rerun-reverse-lstm"] = s => Rerun(s, "LSTM + attention", Full, "LSTM + attention", "full attention"),
        ["rerun-reverse-cnn"] = s => Rerun(s, "convolutional", Full, "convolutional", "full attention"),
        ["rerun-reverse-local"] = s => Rerun(s, "Transformer, local attention", Full, "local attention (r = 8)", "full attention"),
        ["rerun-reverse-strided"] = s => Rerun(s, "Transformer, strided attention", Full, "strided attention", "full attention"),
        ["rerun-reverse-linear"] = s => Rerun(s, "Transformer, linear attention", Full, "linear attention", "full attention"),
        ["rerun-reverse-linformer"] = s => Rerun(s, "Transformer, linformer attention", Full, "Linformer (rank 8)", "full attention"),
        ["rerun-reverse-eos-local"] = s => Rerun(s, "Transformer, local attention" + Eos, Full + Eos, "local attention (r = 8) with EOS", "full attention with EOS"),
        ["rerun-reverse-eos"] = s => Rerun(s, Full + Eos, Full, "full attention with EOS", "full attention without") + "; "
            + Rerun(s, "Transformer, local attention" + Eos, "Transformer, local attention", "local attention (r = 8) with EOS", "local attention without"),

        // notebook 11: each fine-tuning against continued MLE
        ["sequence-mrt-test-wer"] = s => "MRT, test WER: " + AgainstContinuedMle(s, "+ mrt", r => r.TestSequenceError).Verdict(2, 100, range: Estimate.RateDifference),
        ["sequence-mrt-free-running"] = s => "MRT, free-running token accuracy on test: " + AgainstContinuedMle(s, "+ mrt", r => r.FreeRunningAccuracy).Verdict(2, 100, range: Estimate.RateDifference),
        ["sequence-reinforce-test-wer"] = s => "REINFORCE, test WER: " + AgainstContinuedMle(s, "+ reinforce", r => r.TestSequenceError).Verdict(2, 100, range: Estimate.RateDifference),

        // notebook 12: guided attention against none (λ 10 against 0), and the pointer-generator against no copying
        ["guided-diagonal"] = s => "attention on the diagonal band at the first evaluation: " + AgainstUnguided(s, r => GuidedAttentionExperiment.Diagonality(r)[0].DiagonalShare, 1, "higher", "lower")
            + "; at the last: " + AgainstUnguided(s, r => GuidedAttentionExperiment.Diagonality(r)[^1].DiagonalShare, 1, "higher", "lower"),
        ["guided-first-evaluation"] = s => "dev WER at the first evaluation: " + AgainstUnguided(s, r => r.TrainingCurve().First(p => !double.IsNaN(p.DevSequenceError)).DevSequenceError, 2),
        ["guided-best"] = s => "best dev WER: " + AgainstUnguided(s, r => r.TrainingReadings().DevSequenceError, 2),
        ["copying-test-error"] = s =>
        {
            return "test sequence error with copying: " + Between(s.Runs(ExperimentsTables.CopyingNamesSweep), "copy", "false", "true",
                r => CopyingExperiment.ReadingsOf(r).TestSequenceError, "higher than without", "lower than without");
        },
    };

    const string Full = "Transformer, full attention", Eos = ", source_eos=true";

    /// <summary>
    /// How far the long-reverse rerun has run, from the store: tuning runs finished (and the arms whose setting is chosen),
    /// reported runs finished per arm and how many of them are evaluated on test. "Complete" only when every tuning setting
    /// and every arm's five seeds have finished and every finished reported run is evaluated.
    /// </summary>
    public static string RerunProgress(ReportSources s)
    {
        var tuning = ExperimentsTables.ReverseTuningChoices(s);
        var reported = ExperimentsTables.ReverseReportedRuns(s);
        int seeds = ExperimentsTables.ReportedSeeds;
        var (tuned, settings) = (tuning.Sum(a => a.Runs.Count), tuning.Sum(a => a.Settings));
        var (ran, planned) = (reported.Sum(a => a.Runs.Count), reported.Count * seeds);
        var done = reported.SelectMany(a => a.Runs).Where(r => r.State == RunState.Done).ToList();
        var evaluated = done.Count(r => ExperimentsTables.TestOf(r) is not null);
        if (tuned == settings && ran == planned && evaluated == done.Count)
            return $"complete: all {settings} tuning runs and all {planned} reported runs ({reported.Count} arms × {seeds} seeds) have finished, every finished reported run evaluated on test";
        var chosen = tuning.Where(a => a.Chosen is not null).Select(a => a.Label).ToList();
        var started = reported.Where(a => a.Runs.Count > 0).Select(a => $"{a.Arm}: {a.Runs.Count} of {seeds}").ToList();
        return $"under way: tuning {tuned} of {settings} runs finished (setting chosen for {(chosen.Count == 0 ? "no arm yet" : string.Join("; ", chosen))}); "
            + $"reported comparison {ran} of {planned} runs finished ({(started.Count == 0 ? "none yet" : string.Join("; ", started))}); "
            + $"test evaluated for {evaluated} of the {done.Count} reported runs that did not diverge";
    }

    /// <summary>
    /// An arm of the long-reverse rerun's reported comparison against another (<see cref="ExperimentsTables.ReverseReportedRuns"/>),
    /// paired by seed: the steps to 95 % dev exact match over the seeds that reached it on both sides, and the test sequence
    /// error at the best dev checkpoint. No verdict until both arms have all five seeds finished and evaluated on test — the
    /// claim says what it waits for instead; seeds that diverged or never reached the target are named.
    /// </summary>
    static string Rerun(ReportSources s, string arm, string baseline, string name, string versus)
    {
        var arms = ExperimentsTables.ReverseReportedRuns(s).ToDictionary(a => a.Arm, a => a.Runs);
        return Rerun(arms[arm], arms[baseline], name, versus);
    }

    /// <summary><see cref="Rerun(ReportSources, string, string, string, string)"/> on two arms' finished runs (<paramref name="treated"/> minus <paramref name="control"/>).</summary>
    public static string Rerun(IReadOnlyList<RunRecord> treated, IReadOnlyList<RunRecord> control, string name, string versus)
    {
        int seeds = ExperimentsTables.ReportedSeeds;
        if (treated.Count < seeds || control.Count < seeds)
            return $"{name}: waits for {seeds} finished seeds on both sides ({name} {treated.Count}, {versus} {control.Count} of {seeds} so far)";
        // each run's test file and curve read once (a run is its own key, as in ExperimentsTables.ReportedTable)
        var done = treated.Concat(control).Where(r => r.State == RunState.Done)
            .ToDictionary(r => r, r => (Test: ExperimentsTables.TestOf(r), Steps: ExperimentsTables.StepsToTarget(r)));
        var unevaluated = done.Values.Count(v => v.Test is null);
        if (unevaluated > 0)
            return $"{name}: waits for the test evaluation of {unevaluated} finished run(s) at their best dev checkpoint";
        bool Reached(RunRecord r) => done.TryGetValue(r, out var v) && v.Steps is not null;
        // how many seeds of each arm reached the target comes first: a difference over the seeds where both did says nothing of the others
        var steps = Estimate.Paired(control.Where(Reached), treated.Where(Reached), r => done[r].Steps!.Value) is { N: > 0 } paired
            ? paired.Verdict(0, 1, " steps", higher: $"more steps than {versus}", lower: $"fewer steps than {versus}")
            : "no seed in which both reached it";
        var test = Estimate.Paired(control, treated, r => done[r].Test!.SequenceError)
            .Verdict(2, 100, range: Estimate.RateDifference, higher: $"higher than {versus}", lower: $"lower than {versus}");
        string? Diverged(string arm, IEnumerable<RunRecord> runs) =>
            runs.Where(r => r.State == RunState.Diverged).Select(r => r.Seed).Order().ToList() is { Count: > 0 } d ? $"{arm} diverged in seed {string.Join(", ", d)}" : null;
        var diverged = new[] { Diverged(name, treated), Diverged(versus, control) }.OfType<string>().ToList();
        var target = $"{100 * ExperimentsTables.ExactMatchTarget:0} % dev exact match";
        return $"{name}: reached {target} in {treated.Count(Reached)} of {seeds} seeds ({versus}: {control.Count(Reached)} of {seeds}); "
            + $"steps to it, paired over the seeds where both reached it (dev evaluated every {control[0].TrainingSettings().Loop.EvalEvery:N0} steps): {steps}; "
            + $"test sequence error at the best dev checkpoint: {test}"
            + (diverged.Count > 0 ? $"; {string.Join(" and ", diverged)}, left out of both comparisons" : "");
    }

    /// <summary>Variant <paramref name="index"/> of a comparison against its first (the Transformer), paired by seed, in points of the error.</summary>
    static string Against(ReportSources s, IReadOnlyList<ArchitectureVariant> sweeps, int index, string metric) =>
        $"{sweeps[index].Name}: " + Estimate.Paired(s.Runs(sweeps[0].Sweep), s.Runs(sweeps[index].Sweep), r => r.TrainingReadings().DevSequenceError)
            .Verdict(2, 100, range: Estimate.RateDifference, higher: $"higher {metric} than the Transformer", lower: $"lower {metric} than the Transformer");

    /// <summary>One encoder attention of <paramref name="sweep"/> against full attention, paired by seed, in points of the error.</summary>
    static string AgainstFull(ReportSources s, SweepSpec sweep, string kind, string name, string metric) =>
        $"{name}: " + Between(s.Runs(sweep), "attention", "full", kind, r => r.TrainingReadings().DevSequenceError, $"higher {metric} than full attention", $"lower {metric} than full attention");

    /// <summary>A sweep's scheduled sampling minus its teacher forcing, paired by seed, in points.</summary>
    static string AgainstTeacherForcing(ReportSources s, SweepSpec sweep, Func<RunRecord, double> value) =>
        Between(s.Runs(sweep), "decoder_input", "teacher_forcing", "scheduled_sampling", value, "higher than teacher forcing", "lower than teacher forcing");

    /// <summary>One value of a sweep's axis minus another, paired by seed.</summary>
    static string Between(IReadOnlyList<RunRecord> runs, string key, string baseline, string treatment, Func<RunRecord, double> value, string higher, string lower, int decimals = 2) =>
        Estimate.Paired(runs.Where(r => r.Config[key] == baseline), runs.Where(r => r.Config[key] == treatment), value).Verdict(decimals, 100, range: Estimate.RateDifference, higher: higher, lower: lower);

    /// <summary>Guided attention (λ 10) minus none, paired by seed.</summary>
    static string AgainstUnguided(ReportSources s, Func<RunRecord, double> value, int decimals, string higher = "higher with guidance", string lower = "lower with guidance") =>
        Between(s.Runs(ExperimentsTables.GuidedAttentionG2pSweep), "guided_attention", "0", "10", value, higher, lower, decimals);

    /// <summary>A difference measured inside each finished run (one setting minus another of the same model), in seed order.</summary>
    static Estimate Within(IEnumerable<RunRecord> runs, Func<RunRecord, double> difference) =>
        new([.. runs.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed).Select(difference)]);

    /// <summary>The one-shot NAT minus AT greedy decoding of the same run, per seed.</summary>
    static string AgainstAt(ReportSources s, SweepSpec sweep, string metric) => Within(s.Runs(sweep), r =>
    {
        var quality = AtVsNatExperiment.Quality(r);
        return quality.Single(q => q.Decoder == "nat").SequenceError - quality.Single(q => q.Decoder == "at greedy").SequenceError;
    }).Verdict(2, 100, range: Estimate.RateDifference, higher: $"the NAT's test {metric} is higher than greedy AT decoding's", lower: $"the NAT's test {metric} is lower than greedy AT decoding's");

    /// <summary>Distillation, refinement and the length beam, each minus the same run's one-shot NAT (refinement.csv).</summary>
    static string NatSettings(ReportSources s, SweepSpec sweep)
    {
        (string Name, bool Distilled, int LengthBeam, int Iterations)[] settings =
            [("distillation", true, 1, 1), ("4 refinement iterations", false, 1, 4), ("distillation and 8 iterations", true, 1, 8), ("length beam 3", false, 3, 1)];
        return string.Join("; ", settings.Select(x => $"{x.Name}: " + Within(s.Runs(sweep), r =>
        {
            var rows = AtVsNatExperiment.Refinement(r);
            double At(bool distilled, int beam, int iterations) => rows.Single(o => o.Distilled == distilled && o.LengthBeam == beam && o.Iterations == iterations).SequenceError;
            return At(x.Distilled, x.LengthBeam, x.Iterations) - At(false, 1, 1);
        }).Verdict(2, 100, range: Estimate.RateDifference, higher: "higher error than one shot", lower: "lower error than one shot")));
    }

    /// <summary>A fine-tuning of notebook 11's sweep minus continued MLE, per seed (objectives.csv of each run), as an estimate.</summary>
    static Estimate AgainstContinuedMle(ReportSources s, string model, Func<SequenceTrainingExperiment.ObjectiveRow, double> value) =>
        new([.. s.Runs(ExperimentsTables.SequenceTrainingG2pSweep).Where(r => r.State == RunState.Done).OrderBy(r => r.Seed)
            .Select(SequenceTrainingExperiment.Objectives)
            .Select(rows => value(rows.Single(o => o.Model == model)) - value(rows.Single(o => o.Model == SequenceTrainingExperiment.ModelName(TrainingObjective.Mle))))]);
}
