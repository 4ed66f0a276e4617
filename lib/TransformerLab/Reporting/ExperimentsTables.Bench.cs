using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>research bench's figures and ratios, as experiments.md quotes them.</summary>
public static partial class ExperimentsTables
{
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
}
