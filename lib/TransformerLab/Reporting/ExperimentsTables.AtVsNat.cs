using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebook 06: autoregressive against non-autoregressive decoding, and mask-predict refinement.</summary>
public static partial class ExperimentsTables
{
    public static readonly SweepSpec AtVsNatG2p = SweepSpec.Of("at-vs-nat", 3);

    public static readonly SweepSpec AtVsNatReverse = SweepSpec.Of("at-vs-nat", 3,
        s => s.WithTask(t => t with { Kind = TaskKind.Reverse }).WithLabelSmoothing(0).WithLoop(l => l with { BatchSize = 64 }));

    /// <summary>The NAT alone on reverse of 4–16 (experiments.md, "Decoder input" and "Length rule"): uniform masking, offset length classifier by default.</summary>
    public static TrainingSettings NatAloneReverse(TrainingSettings s) => s
        .WithTask(t => t with { Kind = TaskKind.Reverse })
        .WithArchitecture(Architecture.NonAutoregressive)
        .WithDecoderInput(d => d with { NatMasking = NatMasking.Uniform })
        .WithTransformer(m => m with { DFF = 256 })
        .WithOptimiser(o => o with { Lr = 0.002, Warmup = 300 })
        .WithLoop(l => l with { MaxSteps = 3000, EvalEvery = 1000, BatchSize = 64 })
        .WithLabelSmoothing(0);

    public static readonly SweepSpec NatDecoderInputSweep = SweepSpec.Of("train", 5, NatAloneReverse, ("nat_decoder_input", "uniform_copy,position_queries"));

    public static readonly SweepSpec NatLengthRuleSweep = SweepSpec.Of("train", 5, NatAloneReverse, ("length_prediction", "offset,cut_at_eos"));

    /// <summary>The NAT alone on reverse: each decoder input with the offset classifier, and the cut-at-EOS length rule with the uniform copy.</summary>
    static MarkdownTable NatAlone(ReportSources s)
    {
        var inputs = s.Runs(NatDecoderInputSweep);
        var rules = s.Runs(NatLengthRuleSweep);
        (string Name, IReadOnlyList<RunRecord> Runs)[] rows =
        [
            ("uniform copy, offset classifier", inputs.Where(r => r.Config["nat_decoder_input"] == "uniform_copy").ToList()),
            ("position-only queries, offset classifier", inputs.Where(r => r.Config["nat_decoder_input"] == "position_queries").ToList()),
            ("uniform copy, cut at the first EOS", rules.Where(r => r.Config["length_prediction"] == "cut_at_eos").ToList()),
        ];
        return new(["decoder input, length rule", "best dev sequence error %", "dev symbol error %", "per seed, dev sequence error %", "runs"],
            rows.Select(row => (IReadOnlyList<string>)[row.Name, Cell.MeanSd(Done(row.Runs, r => Training(r).DevSequenceError), 2, 100),
                Cell.MeanSd(Done(row.Runs, r => Training(r).DevSymbolError), 3, 100), Cell.PerSeed(Done(row.Runs, r => Training(r).DevSequenceError), 1, 100), Outcome(row.Runs)]).ToList());
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
}
