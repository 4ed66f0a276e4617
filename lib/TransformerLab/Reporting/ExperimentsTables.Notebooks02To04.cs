using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebooks 02–04: heads, positional encodings and the causal mask, trained.</summary>
public static partial class ExperimentsTables
{
    /// <summary>The model and training of notebooks 02–04: d_model 64, d_ff 128, 2 + 2 layers, dropout 0.1, batch 64, lr 2e-3, no label smoothing, one evaluation at the end.</summary>
    static TrainingSettings Notebook02To04(TrainingSettings s, TaskSpec task, int heads, int warmup, int steps) => s
        .WithTask(_ => task with { DevSize = 300 })
        .WithTransformer(m => m with { DModel = 64, Heads = heads, DFF = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0.1 })
        .WithLoop(l => l with { BatchSize = 64, MaxSteps = steps, EvalEvery = steps })
        .WithOptimiser(o => o with { Warmup = warmup, Lr = 0.002 })
        .WithLabelSmoothing(0);

    public static readonly SweepSpec HeadsSweep = SweepSpec.Of("train", 3,
        s => Notebook02To04(s, new TaskSpec { Kind = TaskKind.Sort, Symbols = 12, MinLength = 4, MaxLength = 10, TrainSize = 8000 }, heads: 4, warmup: 150, steps: 1500),
        ("heads", "1,2,4,8"));

    public static readonly SweepSpec PositionsSweep = SweepSpec.Of("train", 3,
        s => Notebook02To04(s, new TaskSpec { Kind = TaskKind.Reverse, Symbols = 10, MinLength = 4, MaxLength = 12, TrainSize = 10000 }, heads: 4, warmup: 200, steps: 2000),
        ("positional_encoding", "none,sinusoidal,learned"));

    public static readonly SweepSpec CausalMaskSweep = SweepSpec.Of("train", 3,
        s => Notebook02To04(s, new TaskSpec { Kind = TaskKind.Reverse, Symbols = 10, MinLength = 4, MaxLength = 10, TrainSize = 8000 }, heads: 4, warmup: 200, steps: 1500),
        ("causal_mask", "true,false"));

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
}
