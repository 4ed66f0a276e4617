using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebooks 09 and 10: the Transformer against the recurrent and convolutional baselines, and the efficient attention kernels, on small G2P and long reverse.</summary>
public static partial class ExperimentsTables
{
    /// <summary>The small G2P comparison of notebooks 09 and 10: d_model 128, 2 + 2 layers, 1,500 steps (r = 4: the local window, the strided stride and the Linformer rank; full and linear attention read none).</summary>
    static TrainingSettings SmallG2pComparison(TrainingSettings s) => s
        .WithTransformer(m => m with { DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2, AttentionWindow = 4, AttentionStride = 4, AttentionRank = 4 })
        .WithLoop(l => l with { BatchSize = 128, MaxSteps = 1500, EvalEvery = 500, EvalItems = 1000 })
        .WithOptimiser(o => o with { Warmup = 300, Lr = 0.002 }) with { Threads = 1 };

    public static readonly SweepSpec EncoderAttentionSweep = SweepSpec.Of("train", 5, SmallG2pComparison, ("attention", "full,local,strided,linear,linformer"));

    /// <summary>
    /// Reverse of 16–48 symbols, the long-range task of notebooks 09 and 10: the first output is the last input. The
    /// model and schedule of <see cref="SmallG2pComparison"/>, with the synthetic tasks' batch and no label smoothing; r = 8.
    /// </summary>
    static TrainingSettings LongReverseComparison(TrainingSettings s) => s
        .WithTask(t => t with { Kind = TaskKind.Reverse, MinLength = 16, MaxLength = 48 })
        .WithTransformer(m => m with { DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2, AttentionWindow = 8, AttentionStride = 8, AttentionRank = 8 })
        .WithLoop(l => l with { BatchSize = 64, MaxSteps = 1500, EvalEvery = 500, EvalItems = 500 })
        .WithOptimiser(o => o with { Warmup = 300, Lr = 0.002 })
        .WithLabelSmoothing(0) with { Threads = 1 };

    /// <summary>Notebook 10's kernels on the long-range task; its full-attention runs are notebook 09's Transformer on it.</summary>
    public static readonly SweepSpec EncoderAttentionReverseSweep = SweepSpec.Of("train", 3, LongReverseComparison, ("attention", "full,local,strided,linear,linformer"));

    /// <summary>
    /// Notebook 09's Transformer, LSTM and convolutional encoder–decoders at (nearly) equal parameter counts on one task:
    /// the Transformer as the comparison defines it, the LSTM with d_model 132 and the convolutional model with 4 encoder
    /// layers (their counts then lie within 3.5 % of the Transformer's: experiments.md's claim architecture-parameters gives them).
    /// </summary>
    public static IReadOnlyList<ArchitectureVariant> ArchitectureSweeps(Func<TrainingSettings, TrainingSettings> comparison, int seeds = 3) =>
    [
        new(Architecture.Autoregressive, "Transformer", SweepSpec.Of("train", seeds, comparison)),
        new(Architecture.Rnn, "LSTM + attention", SweepSpec.Of("train", seeds, s => comparison(s).WithTransformer(m => m with { DModel = 132 }).WithArchitecture(Architecture.Rnn))),
        new(Architecture.Cnn, "convolutional", SweepSpec.Of("train", seeds, s => comparison(s).WithTransformer(m => m with { EncoderLayers = 4 }).WithArchitecture(Architecture.Cnn))),
    ];

    public static readonly IReadOnlyList<ArchitectureVariant> ArchitectureG2pSweeps = ArchitectureSweeps(SmallG2pComparison, seeds: 5);

    public static readonly IReadOnlyList<ArchitectureVariant> ArchitectureReverseSweeps = ArchitectureSweeps(LongReverseComparison);

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
                g.Name == first.Name ? "–" : Cell.RateDifference(Analysis.Paired(first.Runs, g.Runs, r => Training(r).DevSequenceError), 2),
                Cell.PerSeed(Done(g.Runs, r => Training(r).DevSequenceError), 1, 100),
                string.Join(" / ", Done(g.Runs, r => Training(r).Parameters).Distinct().Select(p => Cell.Number(p, 0))),
                Cell.MeanSd(Done(g.Runs, r => Training(r).TrainSeconds), 0),
                Outcome(g.Runs) + (g.Runs.Count < seeds ? $"{(g.Runs.Count > 0 ? ", " : "")}{seeds - g.Runs.Count} not run yet" : "")]).ToList());
    }
}

/// <summary>One architecture of notebook 09's comparison: its kind, its name in tables and plots, and the sweep that trains it.</summary>
public sealed record ArchitectureVariant(Architecture Kind, string Name, SweepSpec Sweep);
