using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>Notebook 08: greedy, beam and sampling, and the beam's oracle.</summary>
public static partial class ExperimentsTables
{
    public static readonly SweepSpec DecodingSweep = SweepSpec.Of("decoding", 3);

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
}
