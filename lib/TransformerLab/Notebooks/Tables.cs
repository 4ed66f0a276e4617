using System.Reflection;
using Microsoft.Data.Analysis;
using TransformerLab.Reporting;
using TransformerLab.Experiments;

namespace TransformerLab.Notebooks;

/// <summary>DataFrames from plain records, so notebook cells stay one line.</summary>
public static class Tables
{
    /// <summary>One column per public property (numbers, booleans, strings; anything else as its text), one row per item.</summary>
    public static DataFrame From<T>(IEnumerable<T> rows)
    {
        var items = rows.ToList();
        var columns = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => Column(p, items)).ToList();
        return new DataFrame(columns);
    }

    /// <summary>
    /// <c>train</c> runs one row each, as a reader compares them: the run, its seed and state, where it stopped and its best
    /// step, and its dev readings at that step in % (<see cref="TrainingReadings"/>); <paramref name="setting"/>, when
    /// given, adds the column that tells the runs apart (e.g. with or without the causal mask).
    /// </summary>
    public static DataFrame TrainingRuns(IEnumerable<RunRecord> runs, (string Name, Func<RunRecord, string> Value)? setting = null)
    {
        var rows = runs.OrderBy(r => r.Seed).ToList();
        var readings = rows.Select(r => r.TrainingReadings()).ToList();
        static long? Steps(double steps) => double.IsNaN(steps) ? null : (long)steps; // none where a run diverged before its first evaluation
        DataFrameColumn Percent(string name, Func<TrainingReadings, double> value) =>
            new DoubleDataFrameColumn(name, readings.Select(t => Math.Round(100 * value(t), 2)));
        return new DataFrame([
            new StringDataFrameColumn("run", rows.Select(r => r.Key)),
            .. setting is { } s ? [new StringDataFrameColumn(s.Name, rows.Select(s.Value))] : Array.Empty<DataFrameColumn>(),
            new Int32DataFrameColumn("seed", rows.Select(r => r.Seed)),
            new StringDataFrameColumn("state", rows.Select(r => r.State.ToString().ToLowerInvariant())),
            new Int64DataFrameColumn("steps", readings.Select(t => Steps(t.Steps))),
            new Int64DataFrameColumn("best step", readings.Select(t => Steps(t.BestStep))),
            Percent("dev sequence error %", t => t.DevSequenceError),
            Percent("dev symbol error %", t => t.DevSymbolError),
            Percent("dev token accuracy %", t => t.DevTokenAccuracy),
        ]);
    }

    /// <summary>
    /// A report table (<see cref="ExperimentsTables"/>) as experiments.md shows it: one text column per header, its cells'
    /// markdown marks (<c>**chosen**</c>, <c>`command`</c>) dropped, since a table cell shows them as typed.
    /// </summary>
    public static DataFrame From(MarkdownTable table) =>
        new(table.Header.Select((name, i) => (DataFrameColumn)new StringDataFrameColumn(name, table.Rows.Select(row => Plain(row[i])))));

    static string Plain(string markdown) => markdown.Replace("**", "", StringComparison.Ordinal).Replace("`", "", StringComparison.Ordinal);

    /// <summary>
    /// experiments.md's generated claims (<see cref="ExperimentsClaims"/>), computed here from the committed store by the
    /// same code: the words a comparison may use, from its 95 % interval over seeds. A claim whose runs are not in the store
    /// says so and names the command that makes them, instead of failing the cell.
    /// </summary>
    public static DataFrame Claims(params string[] names)
    {
        var sources = new ReportSources(NotebookRuns.Committed);
        string Verdict(string name)
        {
            if (!ExperimentsClaims.All.TryGetValue(name, out var claim)) throw new ArgumentException($"No claim named '{name}'; the claims are: {string.Join(", ", ExperimentsClaims.All.Keys)}.", nameof(names));
            try { return claim(sources); }
            catch (ReportException missing) { return "not computed: " + missing.Message; }
        }
        return new(new StringDataFrameColumn("claim", names), new StringDataFrameColumn("verdict (paired by seed, 95 % CI)", names.Select(Verdict)));
    }

    /// <summary>
    /// One of experiments.md's generated tables (<see cref="ExperimentsTables.All"/>), computed here from the committed store
    /// by the same code. A table whose runs the store cannot give (a damaged run, a missing benchmark) says why in one row
    /// instead of failing the cell. <paramref name="rows"/> keeps some of its rows (say, a notebook's arms) — after the whole
    /// table is computed, so that a row's comparison with another row is the same as experiments.md's.
    /// </summary>
    public static DataFrame Report(string name, Func<IReadOnlyList<string>, bool>? rows = null)
    {
        if (!ExperimentsTables.All.TryGetValue(name, out var table)) throw new ArgumentException($"No table named '{name}'; the tables are: {string.Join(", ", ExperimentsTables.All.Keys)}.", nameof(name));
        try
        {
            var whole = table(new ReportSources(NotebookRuns.Committed));
            return From(rows is null ? whole : whole with { Rows = [.. whole.Rows.Where(rows)] });
        }
        catch (ReportException missing) { return new(new StringDataFrameColumn(name, ["not computed: " + missing.Message])); }
    }

    static DataFrameColumn Column<T>(PropertyInfo p, List<T> items)
    {
        var values = items.Select(i => p.GetValue(i)).ToList();
        var name = p.Name;
        return p.PropertyType switch
        {
            var t when t == typeof(double) || t == typeof(float) => new DoubleDataFrameColumn(name, values.Select(v => Convert.ToDouble(v))),
            var t when t == typeof(long) || t == typeof(int) => new Int64DataFrameColumn(name, values.Select(v => Convert.ToInt64(v))),
            var t when t == typeof(bool) => new BooleanDataFrameColumn(name, values.Select(v => (bool)v!)),
            _ => new StringDataFrameColumn(name, values.Select(v => v?.ToString() ?? "")),
        };
    }
}
