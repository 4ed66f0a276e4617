using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>
/// Every table of experiments.md that reports results, each made from the runs of the sweep whose command experiments.md
/// shows beside it. Percentages are the stored fractions × 100; "mean ± sd" is over the finished (done) runs of a row,
/// sample sd; per-seed values are in seed order.
/// </summary>
public static class ExperimentsTables
{
    // ---- the sweeps, as their commands in experiments.md give them ----

    public static readonly SweepSpec LayerNormGridSweep = SweepSpec.Of("ln-placement", 3, [],
        ("norm", "post,pre"), ("encoder_layers+decoder_layers", "2,6,12"), ("lr", "0.0005,0.001,0.002"), ("warmup", "0,300"));

    public static readonly SweepSpec PaperScheduleSweep = SweepSpec.Of("ln-placement", 3,
        [("norm", "post"), ("warmup", "4000"), ("schedule", "inverse_sqrt"), ("max_steps", "6000"), ("eval_every", "500"), ("threads", "1")],
        ("encoder_layers+decoder_layers", "6,12"), ("lr", "0.001,0.002"));

    public static readonly SweepSpec NormalizationSweep = SweepSpec.Of("ln-placement", 3, [("warmup", "300")],
        ("normalization", "layer_norm,batch_norm"), ("norm", "post,pre"));

    public static readonly SweepSpec ExposureBiasSweep = SweepSpec.Of("exposure-bias", 3, []);

    public static readonly SweepSpec ScheduledSamplingSweep = SweepSpec.Of("scheduled-sampling", 3, [], ("decoder_input", "teacher_forcing,scheduled_sampling"));

    public static readonly SweepSpec SampledPredictionsSweep = SweepSpec.Of("scheduled-sampling", 3, [("sampling_predictions", "sample")]);

    public static readonly SweepSpec ScheduledSamplingG2pSweep = SweepSpec.Of("scheduled-sampling", 3,
        [("task", "g2p"), ("d_model", "128"), ("heads", "4"), ("d_ff", "256"), ("encoder_layers", "2"), ("decoder_layers", "2"), ("batch_size", "128"),
         ("warmup", "300"), ("lr", "0.002"), ("label_smoothing", "0.1"), ("max_steps", "3000"), ("eval_every", "1000"), ("eval_items", "1000"), ("sampling_k", "270")],
        ("decoder_input", "teacher_forcing,scheduled_sampling"));

    public static readonly SweepSpec AtVsNatG2p = SweepSpec.Of("at-vs-nat", 3, []);

    public static readonly SweepSpec AtVsNatReverse = SweepSpec.Of("at-vs-nat", 3, [("task", "reverse"), ("label_smoothing", "0"), ("batch_size", "64")]);

    public static readonly SweepSpec DecodingSweep = SweepSpec.Of("decoding", 3, []);

    /// <summary>The small G2P comparison of notebooks 09 and 10: d_model 128, 2 + 2 layers, 1,500 steps (attention_window is read only by local, strided and linformer attention).</summary>
    static readonly (string, string)[] SmallG2pComparison =
        [("attention_window", "4"), ("task", "g2p"), ("d_model", "128"), ("heads", "4"), ("d_ff", "256"), ("encoder_layers", "2"), ("decoder_layers", "2"),
         ("batch_size", "128"), ("warmup", "300"), ("lr", "0.002"), ("max_steps", "1500"), ("eval_every", "500"), ("eval_items", "1000"), ("threads", "1")];

    public static readonly SweepSpec EncoderAttentionSweep = SweepSpec.Of("train", 3, SmallG2pComparison, ("attention", "full,local,strided,linear,linformer"));

    /// <summary>
    /// Reverse of 16–48 symbols, the long-range task of notebooks 09 and 10: the first output is the last input. The
    /// model and schedule of <see cref="SmallG2pComparison"/>, with the synthetic tasks' batch and no label smoothing; r = 8.
    /// </summary>
    static readonly (string, string)[] LongReverseComparison =
        [("attention_window", "8"), ("task", "reverse"), ("min_length", "16"), ("max_length", "48"), ("d_model", "128"), ("heads", "4"), ("d_ff", "256"),
         ("encoder_layers", "2"), ("decoder_layers", "2"), ("batch_size", "64"), ("warmup", "300"), ("lr", "0.002"), ("label_smoothing", "0"),
         ("max_steps", "1500"), ("eval_every", "500"), ("eval_items", "500"), ("threads", "1")];

    /// <summary>Notebook 10's kernels on the long-range task; its full-attention runs are notebook 09's Transformer on it.</summary>
    public static readonly SweepSpec EncoderAttentionReverseSweep = SweepSpec.Of("train", 3, LongReverseComparison, ("attention", "full,local,strided,linear,linformer"));

    /// <summary>
    /// Notebook 09's Transformer, LSTM and convolutional encoder–decoders at (nearly) equal parameter counts on one task:
    /// the Transformer as the comparison defines it, the LSTM with d_model 132 and the convolutional model with 4 encoder
    /// layers (their counts then lie within 3.5 % of the Transformer's: experiments.md's claim architecture-parameters gives them).
    /// </summary>
    public static IReadOnlyList<ArchitectureVariant> ArchitectureSweeps((string, string)[] comparison) =>
    [
        new(Architecture.Autoregressive, "Transformer", SweepSpec.Of("train", 3, comparison)),
        new(Architecture.Rnn, "LSTM + attention", SweepSpec.Of("train", 3, [.. comparison.Select(s => s.Item1 == "d_model" ? ("d_model", "132") : s), ("architecture", "rnn")])),
        new(Architecture.Cnn, "convolutional", SweepSpec.Of("train", 3, [.. comparison.Select(s => s.Item1 == "encoder_layers" ? ("encoder_layers", "4") : s), ("architecture", "cnn")])),
    ];

    public static readonly IReadOnlyList<ArchitectureVariant> ArchitectureG2pSweeps = ArchitectureSweeps(SmallG2pComparison);
    public static readonly IReadOnlyList<ArchitectureVariant> ArchitectureReverseSweeps = ArchitectureSweeps(LongReverseComparison);

    static readonly (string, string)[] SyntheticTasks =
        [("d_model", "128"), ("d_ff", "512"), ("encoder_layers", "2"), ("decoder_layers", "2"), ("batch_size", "64"), ("warmup", "400"), ("label_smoothing", "0")];

    /// <summary>Copy and reverse: the first command of their section, then reverse with more steps and a higher peak lr.</summary>
    public static readonly IReadOnlyList<SweepSpec> SyntheticTaskSweeps =
    [
        SweepSpec.Of("train", 3, [.. SyntheticTasks, ("lr", "0.001"), ("max_steps", "3000"), ("eval_every", "500")], ("task", "copy,reverse")),
        SweepSpec.Of("train", 3, [.. SyntheticTasks, ("lr", "0.001"), ("max_steps", "5000"), ("eval_every", "1000")], ("task", "reverse")),
        SweepSpec.Of("train", 3, [.. SyntheticTasks, ("lr", "0.002"), ("max_steps", "3000"), ("eval_every", "500")], ("task", "reverse")),
        SweepSpec.Of("train", 3, [.. SyntheticTasks, ("lr", "0.002"), ("max_steps", "5000"), ("eval_every", "1000")], ("task", "reverse")),
    ];

    /// <summary>The G2P headline: the g2p defaults with d_ff 512 for 11,000 steps, chosen on dev, measured once on test.</summary>
    public static readonly SweepSpec G2pHeadlineSweep = SweepSpec.Of("test", 3,
        [("task", "g2p"), ("d_ff", "512"), ("max_steps", "11000"), ("eval_every", "2000"), ("threads", "1")]);

    /// <summary>Notebook 11: the small G2P model trained by MLE, then fine-tuned by continued MLE, MRT and REINFORCE (the experiment's defaults).</summary>
    /// <summary>Notebook 11: each fine-tuning 500 steps (half the setting's default; the sequence-level steps are the slowest of the workspace).</summary>
    public static readonly SweepSpec SequenceTrainingG2pSweep = SweepSpec.Of("sequence-training", 3, [("threads", "1"), ("finetune_steps", "500")]);

    /// <summary>Notebook 12: the small G2P model without and with guided attention (λ = 10), 1,500 steps.</summary>
    public static readonly SweepSpec GuidedAttentionG2pSweep = SweepSpec.Of("guided-attention", 3, [("threads", "1")], ("guided_attention", "0,10"));

    /// <summary>Notebook 12: the names task without and with the copy mechanism.</summary>
    public static readonly SweepSpec CopyingNamesSweep = SweepSpec.Of("copying", 3, [("threads", "1")], ("copy", "false,true"));

    public static readonly SweepSpec PrecisionSweep = SweepSpec.Of("precision", 3, [("threads", "1")], ("precision", "fp32,bf16"));

    static readonly (string, string)[] Notebook02To04 =
        [("d_model", "64"), ("d_ff", "128"), ("encoder_layers", "2"), ("decoder_layers", "2"), ("dropout", "0.1"), ("batch_size", "64"), ("lr", "0.002"), ("label_smoothing", "0")];

    public static readonly SweepSpec HeadsSweep = SweepSpec.Of("train", 3,
        [("task", "sort"), ("symbols", "12"), ("min_length", "4"), ("max_length", "10"), ("train_size", "8000"), ("dev_size", "300"), .. Notebook02To04,
         ("warmup", "150"), ("max_steps", "1500"), ("eval_every", "1500")], ("heads", "1,2,4,8"));

    public static readonly SweepSpec PositionsSweep = SweepSpec.Of("train", 3,
        [("task", "reverse"), ("symbols", "10"), ("min_length", "4"), ("max_length", "12"), ("train_size", "10000"), ("dev_size", "300"), ("heads", "4"), .. Notebook02To04,
         ("warmup", "200"), ("max_steps", "2000"), ("eval_every", "2000")], ("positional_encoding", "none,sinusoidal,learned"));

    public static readonly SweepSpec CausalMaskSweep = SweepSpec.Of("train", 3,
        [("task", "reverse"), ("symbols", "10"), ("min_length", "4"), ("max_length", "10"), ("train_size", "8000"), ("dev_size", "300"), ("heads", "4"), .. Notebook02To04,
         ("warmup", "200"), ("max_steps", "1500"), ("eval_every", "1500")], ("causal_mask", "true,false"));

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
        ["guided-attention-g2p"] = s => GuidedAttention(s.FinishedRuns(GuidedAttentionG2pSweep), GuidedAttentionG2pSweep.Seeds),
        ["copying-names"] = s => Copying(s.FinishedRuns(CopyingNamesSweep), CopyingNamesSweep.Seeds),
        ["attention-g2p"] = s => EncoderAttention(s, EncoderAttentionSweep, "WER", "PER"),
        ["attention-reverse"] = s => EncoderAttention(s, EncoderAttentionReverseSweep, "sequence error", "symbol error"),
        ["architecture-g2p"] = s => Architectures(s, ArchitectureG2pSweeps, "WER", "PER"),
        ["architecture-reverse"] = s => Architectures(s, ArchitectureReverseSweeps, "sequence error", "symbol error"),
        ["bench-figures"] = BenchFigures,
        ["bench-ratios"] = BenchRatios,
        ["bench-layers"] = s => BenchSection(s.Bench(LayersBenchFile), Benchmarks.Bench.LayersSection),
    };

    // ---- the tables ----

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

    static MarkdownTable ExposureBias(ReportSources s)
    {
        var runs = s.Runs(ExposureBiasSweep);
        return new(["", "teacher-forced", "free-running", "gap"],
        [
            ["token accuracy %", Cell.MeanSd(Done(runs, r => Exposure(r).TfTokenAccuracy), 2, 100), Cell.MeanSd(Done(runs, r => Exposure(r).FreeTokenAccuracy), 2, 100), Cell.MeanSd(Done(runs, r => Exposure(r).AccuracyGap), 2, 100) + " points"],
            ["loss (nats / token)", Cell.MeanSd(Done(runs, r => Exposure(r).TfLoss), 3), Cell.MeanSd(Done(runs, r => Exposure(r).FreeLoss), 3), ""],
            ["test sequence error %, greedy", "", Cell.MeanSd(Done(runs, r => Exposure(r).TestSequenceError), 2, 100), ""],
        ]);
    }

    static readonly int[] ReportedPositions = [0, 2, 4, 8, 12, 16, 20, 22];

    /// <summary>A by_position.csv value at one position, averaged over runs (the rate of each run, unweighted); "—" where no run has it.</summary>
    static string AtPosition(IReadOnlyList<RunRecord> runs, int position, Func<ExposureBiasExperiment.PositionRow, double> value)
    {
        var values = runs.Where(r => r.State == RunState.Done).Select(r => ExposureBiasExperiment.ByPosition(r).Single(p => p.Position == position)).Select(value).Where(v => !double.IsNaN(v)).ToList();
        return values.Count == 0 ? "—" : Cell.Number(100 * values.Average(), 1);
    }

    /// <summary>Teacher-forced against free-running error by output position: mean over the exposure-bias runs.</summary>
    static MarkdownTable ExposureBiasByPosition(ReportSources s)
    {
        var runs = s.Runs(ExposureBiasSweep);
        return new(["position", .. ReportedPositions.Select(p => p.ToString())],
        [
            ["teacher-forced error %", .. ReportedPositions.Select(p => AtPosition(runs, p, r => r.TfError))],
            ["free-running error %", .. ReportedPositions.Select(p => AtPosition(runs, p, r => r.FreeError))],
            ["free-running, after an earlier error %", .. ReportedPositions.Select(p => AtPosition(runs, p, r => r.ErrorAfterError))],
            ["free-running, prefix correct so far %", .. ReportedPositions.Select(p => AtPosition(runs, p, r => r.ErrorWithoutError))],
        ]);
    }

    /// <summary>Teacher forcing against argmax scheduled sampling by output position (dev): teacher-forced error, and free-running error after an earlier error / with a clean prefix.</summary>
    static MarkdownTable ScheduledSamplingByPosition(ReportSources s)
    {
        var grid = s.Runs(ScheduledSamplingSweep);
        var positions = ReportedPositions.Skip(1).ToArray();
        IReadOnlyList<string> Rows(string name, string policy, bool split)
        {
            var runs = grid.Where(r => r.Config["decoder_input"] == policy).ToList();
            return [name, .. positions.Select(p => split
                ? $"{AtPosition(runs, p, r => r.ErrorAfterError)} / {AtPosition(runs, p, r => r.ErrorWithoutError)}"
                : AtPosition(runs, p, r => r.TfError))];
        }
        return new(["position", .. positions.Select(p => p.ToString())],
        [
            Rows("teacher forcing: teacher-forced error", "teacher_forcing", split: false),
            Rows("teacher forcing: free-running after an error / clean", "teacher_forcing", split: true),
            Rows("argmax SS: teacher-forced error", "scheduled_sampling", split: false),
            Rows("argmax SS: free-running after an error / clean", "scheduled_sampling", split: true),
        ]);
    }

    /// <summary>Test sequence error by input length (by_length.csv), mean over seeds, for the three training policies.</summary>
    static MarkdownTable ScheduledSamplingByLength(ReportSources s)
    {
        var grid = s.Runs(ScheduledSamplingSweep);
        var policies = new (string Name, IReadOnlyList<RunRecord> Runs)[]
        {
            ("teacher forcing", grid.Where(r => r.Config["decoder_input"] == "teacher_forcing").ToList()),
            ("scheduled sampling, argmax", grid.Where(r => r.Config["decoder_input"] == "scheduled_sampling").ToList()),
            ("scheduled sampling, sampled", s.Runs(SampledPredictionsSweep)),
        };
        var tables = policies.Select(p => (p.Name, Rows: p.Runs.Where(r => r.State == RunState.Done).Select(ExposureBiasExperiment.ByLength).ToList())).ToList();
        var lengths = tables[0].Rows.SelectMany(t => t.Select(r => r.SourceLength)).Distinct().Order().Where(l => l % 2 == 0).ToList();
        return new(["input length", .. lengths.Select(l => l.ToString())],
            tables.Select(t => (IReadOnlyList<string>)[t.Name, .. lengths.Select(l => Cell.Number(100 * t.Rows.Average(rows => rows.Single(r => r.SourceLength == l).SequenceError), 1))]).ToList());
    }

    static MarkdownTable ScheduledSamplingReverse(ReportSources s)
    {
        var grid = s.Runs(ScheduledSamplingSweep);
        var teacher = grid.Where(r => r.Config["decoder_input"] == "teacher_forcing").ToList();
        var policies = new (string Name, IReadOnlyList<RunRecord> Runs)[]
        {
            ("teacher forcing", teacher),
            ("scheduled sampling, argmax", grid.Where(r => r.Config["decoder_input"] == "scheduled_sampling").ToList()),
            ("scheduled sampling, sampled", s.Runs(SampledPredictionsSweep)),
        };
        return new(["policy", "test sequence error %", "paired", "test symbol error %", "paired", "teacher-forced acc. %", "free-running acc. %", "gap (points)", "per seed, test sequence error %"],
            policies.Select(p => (IReadOnlyList<string>)[p.Name,
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).TestSequenceError), 2, 100), p.Runs == teacher ? "–" : Cell.SignedMeanSd(Analysis.Paired(teacher, p.Runs, r => Exposure(r).TestSequenceError), 2, 100),
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).TestSymbolError), 2, 100), p.Runs == teacher ? "–" : Cell.SignedMeanSd(Analysis.Paired(teacher, p.Runs, r => Exposure(r).TestSymbolError), 2, 100),
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).TfTokenAccuracy), 2, 100), Cell.MeanSd(Done(p.Runs, r => Exposure(r).FreeTokenAccuracy), 2, 100),
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).AccuracyGap), 2, 100), Cell.PerSeed(Done(p.Runs, r => Exposure(r).TestSequenceError), 1, 100)]).ToList());
    }

    static MarkdownTable ScheduledSamplingG2p(ReportSources s)
    {
        var runs = s.Runs(ScheduledSamplingG2pSweep);
        var teacher = runs.Where(r => r.Config["decoder_input"] == "teacher_forcing").ToList();
        var sampled = runs.Where(r => r.Config["decoder_input"] == "scheduled_sampling").ToList();
        (Func<RunRecord, double> Value, int Decimals, double Scale)[] columns =
        [
            (r => Exposure(r).TestSequenceError, 2, 100), (r => Exposure(r).TestSymbolError, 2, 100), (r => Exposure(r).TfTokenAccuracy, 2, 100),
            (r => Exposure(r).FreeTokenAccuracy, 2, 100), (r => Exposure(r).AccuracyGap, 2, 100), (r => Exposure(r).FreeLoss, 3, 1),
        ];
        IReadOnlyList<string> Row(string name, IReadOnlyList<RunRecord> g) => [name, .. columns.Select(c => Cell.MeanSd(Done(g, c.Value), c.Decimals, c.Scale)), Cell.PerSeed(Done(g, r => Exposure(r).TestSequenceError), 2, 100)];
        return new(["policy", "test WER %", "test PER %", "teacher-forced acc. %", "free-running acc. %", "gap (points)", "free-running loss", "per seed, test WER %"],
        [
            Row("teacher forcing", teacher), Row("scheduled sampling", sampled),
            ["paired difference", .. columns.Select(c => Cell.SignedMeanSd(Analysis.Paired(teacher, sampled, c.Value), c.Decimals, c.Scale)), ""],
        ]);
    }

    static MarkdownTable AtVsNat(ReportSources s, SweepSpec sweep, string errorHeader, string symbolHeader, bool meanLength)
    {
        var tables = s.Runs(sweep).Where(r => r.State == RunState.Done).Select(AtVsNatExperiment.Quality).ToList();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var name in AtVsNatExperiment.Decoders)
        {
            var quality = tables.Select(table => table.Single(row => row.Decoder == name)).ToList();
            string Column(Func<AtVsNatExperiment.QualityRow, double> value) =>
                quality.Any(q => double.IsNaN(value(q))) ? "" : Cell.MeanSd(quality.Select(value), 2, 100);
            List<string> row = [Describe(name), Column(q => q.SequenceError), Column(q => q.SymbolError), Column(q => q.LengthAccuracy), Column(q => q.Repetition)];
            if (meanLength) row.Add(Cell.Number(quality.Average(q => q.MeanLength), 2));
            rows.Add(row);
        }
        return new(["decoder", errorHeader, symbolHeader, "length accuracy %", "repeated neighbours %", .. meanLength ? new[] { "mean length" } : []], rows);
    }

    static string Describe(string decoder) => decoder switch
    {
        "at greedy" => "AT greedy", "at beam 4" => "AT beam 4", "nat" => "NAT, one pass", "nat kd" => "NAT distilled, one pass",
        "nat 4 iterations" => "NAT, 4 iterations", "nat kd 4 iterations" => "NAT distilled, 4 iterations",
        "nat kd length beam 3" => "NAT distilled, length beam 3", "references" => "references", _ => decoder,
    };

    static MarkdownTable AtVsNatRefinement(ReportSources s)
    {
        var tables = s.Runs(AtVsNatG2p).Where(r => r.State == RunState.Done).Select(AtVsNatExperiment.Refinement).ToList();
        var iterations = new[] { 1, 2, 4, 8 };
        var rows = new List<IReadOnlyList<string>>();
        foreach (var beam in new[] { 1, 3 })
            foreach (var distilled in new[] { false, true })
                rows.Add([$"NAT{(distilled ? " distilled" : "")}, length beam {beam}", .. iterations.Select(t => Cell.MeanSd(tables.Select(table =>
                    table.Single(row => row.Distilled == distilled && row.LengthBeam == beam && row.Iterations == t).SequenceError), 2, 100))]);
        return new(["WER %", "1 iteration", "2", "4", "8"], rows);
    }

    static MarkdownTable DecodingBeam(ReportSources s)
    {
        var tables = s.Runs(DecodingSweep).Where(r => r.State == RunState.Done).Select(DecodingExperiment.Beams).ToList();
        IReadOnlyList<DecodingExperiment.BeamRow> Rows(int beam, double penalty) =>
            tables.Select(table => table.Single(row => row.Beam == beam && row.LengthPenalty == penalty)).ToList();
        return new(["beam", "WER % (α 0)", "PER % (α 0)", "WER % (α 1)", "mean length (α 0 / α 1)", "seconds for test (α 0)"],
            DecodingExperiment.BeamSizes.Select(beam => (IReadOnlyList<string>)[beam == 1 ? "1 (greedy)" : beam.ToString(),
                Cell.MeanSd(Rows(beam, 0).Select(r => r.SequenceError), 2, 100), Cell.MeanSd(Rows(beam, 0).Select(r => r.SymbolError), 2, 100),
                Cell.MeanSd(Rows(beam, 1).Select(r => r.SequenceError), 2, 100),
                $"{Cell.Number(Rows(beam, 0).Average(r => r.MeanLength), 3)} / {Cell.Number(Rows(beam, 1).Average(r => r.MeanLength), 3)}",
                Cell.MeanSd(Rows(beam, 0).Select(r => r.Seconds), 2)]).ToList());
    }

    static MarkdownTable DecodingSampling(ReportSources s)
    {
        var tables = s.Runs(DecodingSweep).Where(r => r.State == RunState.Done).Select(DecodingExperiment.SamplingRows).ToList();
        return new(["sampling", "WER of one sample %", "oracle WER (best of 5) %", "distinct outputs of 5"],
            DecodingExperiment.SamplingGrid.Select(setting =>
            {
                var rows = tables.Select(table => table.Single(row => row.Temperature == setting.Temperature && row.TopK == setting.TopK && row.TopP == setting.TopP)).ToList();
                var name = $"T {setting.Temperature:0.##}" + (setting.TopK > 0 ? $", top-k {setting.TopK}" : "") + (setting.TopP > 0 ? $", top-p {setting.TopP:0.##}" : "");
                return (IReadOnlyList<string>)[name, Cell.MeanSd(rows.Select(r => r.SequenceError), 2, 100),
                    Cell.MeanSd(rows.Select(r => r.OracleSequenceError), 2, 100), Cell.Number(rows.Average(r => r.DistinctOutputs), 2)];
            }).ToList());
    }

    /// <summary>
    /// Copy and reverse by configuration: dev at the best checkpoint, and test exact match per seed where
    /// <c>research eval --checkpoint &lt;run&gt;/best.ckpt --split test</c> wrote its summary into the run folder.
    /// </summary>
    static MarkdownTable SyntheticTaskTable(ReportSources s) =>
        new(["task, steps, peak lr", "dev exact match %", "dev symbol error %", "best step per seed", "test exact match %, seeds 1 / 2 / 3", "training time per run"],
            SyntheticTaskSweeps.SelectMany(sweep => Groups(s.Runs(sweep), "task").Select(g =>
            {
                var settings = g.Runs[0].TrainingSettings();
                var tests = g.Runs.Select(r => EvaluationSummary.Read(EvaluationSummary.GreedyFile(r.Folder, "test"))).ToList();
                return (IReadOnlyList<string>)[$"{g.Values[0]}, {settings.MaxSteps:N0}, {settings.Lr:0.###}",
                    Cell.MeanSd(Done(g.Runs, r => 1 - Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 3, 100),
                    Cell.PerSeed(Done(g.Runs, r => Training(r).BestStep), 0),
                    tests.All(t => t is null) ? "not measured" : string.Join(" / ", tests.Select(t => t is null ? "–" : Cell.Number(100 * t.ExactMatch, 1))),
                    Cell.MeanSd(Done(g.Runs, r => Training(r).TrainSeconds), 0) + " s"];
            })).ToList());

    /// <summary>The oracle over beam search's own n best: the like-for-like partner of the sampling oracle.</summary>
    static MarkdownTable DecodingBeamOracle(ReportSources s)
    {
        var tables = s.Runs(DecodingSweep).Where(r => r.State == RunState.Done).OrderBy(r => r.Seed).Select(DecodingExperiment.BeamOracle).ToList();
        return new(["candidates", $"beam {DecodingExperiment.OracleCandidates}: oracle WER (some candidate right) %", "per seed %"],
            Enumerable.Range(1, DecodingExperiment.OracleCandidates).Select(n =>
            {
                var errors = tables.Select(table => table.Single(row => row.Candidates == n).OracleSequenceError).ToList();
                return (IReadOnlyList<string>)[n == 1 ? "1 (the beam's best)" : $"best {n}", Cell.MeanSd(errors, 2, 100), Cell.PerSeed(errors, 2, 100)];
            }).ToList());
    }

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
            [$"beam {HeldOutTestExperiment.Beam} − greedy, test WER (points, paired by seed)", Cell.SignedMeanSd(done.Select(r => Test(r).TestBeamSequenceError - Test(r).TestGreedySequenceError).ToList(), 2, 100),
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

    static MarkdownTable Heads(ReportSources s) =>
        new(["heads (head width)", "dev sequence error %", "dev symbol error %", "dev loss", "parameters", "train time per run"],
            Groups(s.Runs(HeadsSweep), "heads").Select(g => (IReadOnlyList<string>)[$"{g.Values[0]} ({64 / int.Parse(g.Values[0])})",
                Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 2, 100),
                Cell.MeanSd(Done(g.Runs, r => Training(r).DevLoss), 4), string.Join(" / ", Done(g.Runs, r => Training(r).Parameters).Distinct().Select(p => p.ToString("N0"))),
                Cell.MeanSd(Done(g.Runs, r => Training(r).TrainSeconds), 1) + " s"]).ToList());

    static MarkdownTable Positions(ReportSources s) =>
        new(["encoding", "dev sequence error %", "dev symbol error %", "per seed, dev sequence error %"],
            Groups(s.Runs(PositionsSweep), "positional_encoding").OrderBy(g => Array.IndexOf(["none", "sinusoidal", "learned"], g.Values[0]))
                .Select(g => (IReadOnlyList<string>)[g.Values[0], Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 2, 100),
                    Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 2, 100), Cell.PerSeed(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100)]).ToList());

    static MarkdownTable CausalMask(ReportSources s) =>
        new(["causal mask", "teacher-forced dev loss", "greedy dev sequence error %", "dev symbol error %"],
            Groups(s.Runs(CausalMaskSweep), "causal_mask").OrderByDescending(g => g.Values[0])
                .Select(g => (IReadOnlyList<string>)[g.Values[0] == "true" ? "yes" : "no", Cell.MeanSd(Done(g.Runs, r => Training(r).DevLoss), 5),
                    Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 2, 100)]).ToList());

    /// <summary>fp32 against mixed bf16 on the small G2P model, paired by seed; run over sittings, so partial rows say what is still to run.</summary>
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
            ["bf16 − fp32, paired by seed", Cell.SignedMeanSd(Analysis.Paired(fp32, bf16, r => Training(r).DevSequenceError), 2, 100),
             Cell.SignedMeanSd(Analysis.Paired(fp32, bf16, r => Test(r).TestSequenceError), 2, 100),
             Cell.SignedMeanSd(Analysis.Paired(fp32, bf16, r => Test(r).TestSymbolError), 2, 100),
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
        return new(["model", $"best dev {sequenceError} %", $"test {sequenceError} %", $"test {symbolError} %", $"test {sequenceError} minus {control}, paired (points)",
                "exposure gap (points)", $"per seed, test {sequenceError} %", "runs"],
            SequenceTrainingExperiment.Models.Select(model => (IReadOnlyList<string>)[model,
                Cell.MeanSd(Of(model, o => o.DevSequenceError), 2, 100), Cell.MeanSd(Of(model, o => o.TestSequenceError), 2, 100), Cell.MeanSd(Of(model, o => o.TestSymbolError), 2, 100),
                model != SequenceTrainingExperiment.Models[0] && model != control ? Cell.SignedMeanSd(AgainstMle(model, o => o.TestSequenceError), 2, 100) : "–",
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
                g.Name == first.Name ? "–" : Cell.SignedMeanSd(Analysis.Paired(first.Runs, g.Runs, r => Training(r).DevSequenceError), 2, 100),
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
        return new(["model", "test sequence error %", "items with seen names %", "items with an unseen name %", "unseen names recalled %", "seen names recalled %",
                "test error minus without copying, paired (points)", "runs"],
            groups.Select(g => (IReadOnlyList<string>)[g.Name, Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceError), 2, 100),
                Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceErrorSeenNames), 2, 100), Cell.MeanSd(Done(g.Runs, r => R(r).TestSequenceErrorUnseenName), 2, 100),
                Cell.MeanSd(Done(g.Runs, r => R(r).UnseenNameRecall), 2, 100), Cell.MeanSd(Done(g.Runs, r => R(r).SeenNameRecall), 2, 100),
                g.Name == groups[0].Name ? "–" : Cell.SignedMeanSd(Analysis.Paired(groups[0].Runs, g.Runs, r => R(r).TestSequenceError), 2, 100),
                Outcome(g.Runs) + (g.Runs.Count < seeds ? $"{(g.Runs.Count > 0 ? ", " : "")}{seeds - g.Runs.Count} not run yet" : "")]).ToList());
    }

    /// <summary>G2P with each efficient encoder self-attention against full attention, paired by seed; partial rows say what is still to run.</summary>
    static MarkdownTable EncoderAttention(ReportSources s, SweepSpec sweep, string sequenceError, string symbolError)
    {
        var runs = s.FinishedRuns(sweep);
        return Comparison("encoder self-attention", sweep.Grid.Single(g => g.Key == "attention").Value
            .Select(kind => (kind, (IReadOnlyList<RunRecord>)runs.Where(r => r.Config["attention"] == kind).OrderBy(r => r.Seed).ToList())).ToList(),
            sweep.Seeds, sequenceError, symbolError);
    }

    static MarkdownTable Architectures(ReportSources s, IReadOnlyList<ArchitectureVariant> sweeps, string sequenceError, string symbolError) =>
        Comparison("architecture", sweeps.Select(a => (a.Name, (IReadOnlyList<RunRecord>)s.FinishedRuns(a.Sweep).OrderBy(r => r.Seed).ToList())).ToList(),
            sweeps[0].Sweep.Seeds, sequenceError, symbolError);

    /// <summary>
    /// Variants of one model, each trained over the same seeds, against the first: best dev errors, the difference to
    /// the first paired by seed, per seed, parameters and training time; rows not finished yet say how many runs remain.
    /// </summary>
    public static MarkdownTable Comparison(string variant, IReadOnlyList<(string Name, IReadOnlyList<RunRecord> Runs)> variants, int seeds, string sequenceError, string symbolError)
    {
        var first = variants[0];
        return new([variant, $"best dev {sequenceError} %", $"best dev {symbolError} %", $"{sequenceError} minus {first.Name}, paired (points)", $"per seed, dev {sequenceError} %",
                "parameters", "training time (s)", "runs"],
            variants.Select(g => (IReadOnlyList<string>)[g.Name, Cell.MeanSd(Done(g.Runs, r => Training(r).DevSequenceError), 2, 100), Cell.MeanSd(Done(g.Runs, r => Training(r).DevSymbolError), 2, 100),
                g.Name == first.Name ? "–" : Cell.SignedMeanSd(Analysis.Paired(first.Runs, g.Runs, r => Training(r).DevSequenceError), 2, 100),
                Cell.PerSeed(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100),
                string.Join(" / ", Done(g.Runs, r => Training(r).Parameters).Distinct().Select(p => Cell.Number(p, 0))),
                Cell.MeanSd(Done(g.Runs, r => Training(r).TrainSeconds), 0),
                Outcome(g.Runs) + (g.Runs.Count < seeds ? $"{(g.Runs.Count > 0 ? ", " : "")}{seeds - g.Runs.Count} not run yet" : "")]).ToList());
    }

    /// <summary>Every figure of the committed <c>research bench</c> run, section by section, in the order measured.</summary>
    static MarkdownTable BenchFigures(ReportSources s) =>
        new(["section", "measurement", "value", "unit"], s.Bench().Figures.Select(f => (IReadOnlyList<string>)[f.Section, .. FigureCells(f)]).ToList());

    static string[] FigureCells(Benchmarks.BenchFigure f) => [f.Name + (f.Detail.Length > 0 ? $" ({f.Detail})" : ""), Cell.Number(f.Value, f.Value >= 100 ? 0 : 3), f.Unit];

    /// <summary>The full bench run that first measured <see cref="Benchmarks.Bench.LayersSection"/> (added after <c>bench.json</c>'s run).</summary>
    public const string LayersBenchFile = "bench-layers.json";

    /// <summary>The figures of one section of a committed bench run, with the run's load at start.</summary>
    static MarkdownTable BenchSection(Benchmarks.BenchReport bench, string section) =>
        new(["measurement", "value", "unit"],
            bench.Figures.Where(f => f.Section == section).Select(f => (IReadOnlyList<string>)FigureCells(f)).ToList());

    /// <summary>Every ratio of the committed <c>research bench</c> run: its value, its spread over the repeats, and its target.</summary>
    static MarkdownTable BenchRatios(ReportSources s) =>
        new(["ratio", "value", "repeat by repeat", "target", "met"],
            s.Bench().Ratios.Select(r => (IReadOnlyList<string>)[r.Name, Cell.Number(r.Value, 3),
                double.IsNaN(r.Low) ? "" : $"{Cell.Number(r.Low, 3)} – {Cell.Number(r.High, 3)}{(r.Unsteady ? " (unsteady)" : "")}",
                r.Target, r.Met switch { true => "yes", false => "**no**", null => "" }]).ToList());

    // ---- helpers ----

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

    static ExposureBiasExperiment.Readings Exposure(RunRecord run) => ExposureBiasExperiment.ReadingsOf(run);

    static double FinalLoss(RunRecord run) => run.TrainingCurve().Last(p => !double.IsNaN(p.Loss)).Loss;

    static string Placement(string norm) => norm == "post" ? "Post-LN" : "Pre-LN";

    static string Outcome(IReadOnlyList<RunRecord> runs)
    {
        var parts = runs.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        return string.Join(", ", parts);
    }
}

/// <summary>One architecture of notebook 09's comparison: its kind, its name in tables and plots, and the sweep that trains it.</summary>
public sealed record ArchitectureVariant(Architecture Kind, string Name, SweepSpec Sweep);
