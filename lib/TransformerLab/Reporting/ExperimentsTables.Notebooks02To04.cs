using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebooks 02–04: heads, positional encodings and the causal mask, trained.</summary>
public static partial class ExperimentsTables
{
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
