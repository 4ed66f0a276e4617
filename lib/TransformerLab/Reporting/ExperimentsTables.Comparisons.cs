using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebooks 09 and 10: the Transformer against the recurrent and convolutional baselines, and the efficient attention kernels, on small G2P and long reverse.</summary>
public static partial class ExperimentsTables
{
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
}

/// <summary>One architecture of notebook 09's comparison: its kind, its name in tables and plots, and the sweep that trains it.</summary>
public sealed record ArchitectureVariant(Architecture Kind, string Name, SweepSpec Sweep);
