using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebook 07: exposure bias (teacher-forced against free-running, by position) and scheduled sampling.</summary>
public static partial class ExperimentsTables
{
    public static readonly SweepSpec ExposureBiasSweep = SweepSpec.Of("exposure-bias", 3);

    public static readonly SweepSpec ScheduledSamplingSweep = SweepSpec.Of("scheduled-sampling", 5, ("decoder_input", "teacher_forcing,scheduled_sampling"));

    public static readonly SweepSpec SampledPredictionsSweep = SweepSpec.Of("scheduled-sampling", 5, s => s.WithDecoderInput(d => d with { SamplingPredictions = PredictionChoice.Sample }));

    public static readonly SweepSpec ScheduledSamplingG2pSweep = SweepSpec.Of("scheduled-sampling", 3,
        s => s.WithTask(t => t with { Kind = TaskKind.G2p })
            .WithTransformer(m => m with { DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 })
            .WithLoop(l => l with { BatchSize = 128, MaxSteps = 3000, EvalEvery = 1000, EvalItems = 1000 })
            .WithOptimiser(o => o with { Warmup = 300, Lr = 0.002 })
            .WithLabelSmoothing(0.1)
            .WithDecoderInput(d => d with { SamplingK = 270 }),
        ("decoder_input", "teacher_forcing,scheduled_sampling"));

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
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).TestSequenceError), 2, 100), p.Runs == teacher ? "–" : Cell.RateDifference(Analysis.Paired(teacher, p.Runs, r => Exposure(r).TestSequenceError), 2),
                Cell.MeanSd(Done(p.Runs, r => Exposure(r).TestSymbolError), 2, 100), p.Runs == teacher ? "–" : Cell.RateDifference(Analysis.Paired(teacher, p.Runs, r => Exposure(r).TestSymbolError), 2),
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

    static ExposureBiasExperiment.Readings Exposure(RunRecord run) => ExposureBiasExperiment.ReadingsOf(run);
}
