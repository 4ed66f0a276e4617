using System.Globalization;
using System.Reflection;
using System.Text;

namespace TransformerLab.Runtime;

/// <summary>
/// The one CSV layer of a run folder. Typed tables — one record per row, e.g. <c>quality.csv</c> as
/// <c>AtVsNatExperiment.QualityRow</c> — are written and read back by <see cref="WriteRows{T}"/> / <see cref="ReadRows{T}"/>:
/// a column per constructor parameter, named in snake_case, categories as their names. Curves whose columns vary
/// (curve.csv, dev.csv) are rows of named numbers: <see cref="Write"/> / <see cref="Read"/>. Numbers round-trip exactly
/// ("R"), an empty cell is an absent value, and every file is written atomically.
/// </summary>
public static class Csv
{
    /// <summary>Writes rows of named numbers; columns in first-seen order.</summary>
    public static void Write(string path, IReadOnlyList<IReadOnlyDictionary<string, double>> rows)
    {
        var columns = rows.SelectMany(r => r.Keys).Distinct().ToList();
        WriteCells(path, columns, rows.Select(row => columns.Select(c => row.TryGetValue(c, out var v) ? Format(v) : "")));
    }

    /// <summary>The rows of <paramref name="path"/> as column → number (empty and non-numeric cells left out); empty if there is no file.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Read(string path) =>
        ReadCells(path) is not { } table ? [] : table.Rows.Select(cells =>
        {
            var row = new Dictionary<string, double>();
            for (int i = 0; i < table.Header.Length && i < cells.Length; i++)
                if (double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) row[table.Header[i]] = v;
            return (IReadOnlyDictionary<string, double>)row;
        }).ToList();

    /// <summary>Writes one row per record; the columns are the parameters of <typeparamref name="T"/>'s constructor.</summary>
    public static void WriteRows<T>(string path, IEnumerable<T> rows)
    {
        var parameters = Constructor<T>().GetParameters();
        var properties = parameters.Select(p => typeof(T).GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
            ?? throw new ArgumentException($"{typeof(T).Name} has no property for its parameter {p.Name}.")).ToList();
        WriteCells(path, parameters.Select(p => Column(p.Name!)), rows.Select(row => properties.Select(p => FormatValue(p.GetValue(row)))));
    }

    /// <summary>The records of <paramref name="path"/> (none if there is no file).</summary>
    /// <exception cref="InvalidDataException">a column the record needs is missing, or a cell does not parse as its type.</exception>
    public static IReadOnlyList<T> ReadRows<T>(string path)
    {
        if (ReadCells(path) is not { } table) return [];
        var constructor = Constructor<T>();
        var index = table.Header.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i);
        var parameters = constructor.GetParameters();
        foreach (var p in parameters)
            if (!index.ContainsKey(Column(p.Name!)) && !p.HasDefaultValue)
                throw new InvalidDataException($"{path} has no column '{Column(p.Name!)}' (columns: {string.Join(", ", table.Header)}); it was written by another build — `research sweep <experiment> --rekey` upgrades stored runs.");
        return table.Rows.Select((cells, line) => (T)constructor.Invoke(parameters.Select(p =>
        {
            if (!index.TryGetValue(Column(p.Name!), out var at)) return p.DefaultValue;
            var text = at < cells.Length ? cells[at] : "";
            return ParseValue(text, p.ParameterType) ?? throw new InvalidDataException($"{path}, row {line + 1}: '{text}' is not a {p.ParameterType.Name} ({Column(p.Name!)}).");
        }).ToArray())).ToList();
    }

    /// <summary>A record's numeric fields as named numbers (the names of its CSV columns): how a typed result becomes summary.json metrics.</summary>
    public static IEnumerable<KeyValuePair<string, double>> Named<T>(T record) =>
        Constructor<T>().GetParameters().Select(p => KeyValuePair.Create(Column(p.Name!),
            Convert.ToDouble(typeof(T).GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)!.GetValue(record), CultureInfo.InvariantCulture)));

    /// <summary>
    /// The record whose fields are named in <paramref name="values"/> (e.g. a run's metrics). A missing name is an error
    /// naming it, unless <paramref name="missing"/> gives the value to use instead (e.g. NaN for a reading a run never made).
    /// </summary>
    public static T FromNamed<T>(IReadOnlyDictionary<string, double> values, double? missing = null)
    {
        var constructor = Constructor<T>();
        return (T)constructor.Invoke(constructor.GetParameters().Select(p =>
        {
            if (!values.TryGetValue(Column(p.Name!), out var v))
                v = missing ?? throw new InvalidDataException($"No value '{Column(p.Name!)}' for {typeof(T).Name}; have: {string.Join(", ", values.Keys)}.");
            return p.ParameterType == typeof(int) ? (object)(int)v : p.ParameterType == typeof(long) ? (long)v : v;
        }).ToArray());
    }

    /// <summary>
    /// What is structurally wrong with a table a finished run must hold, or null: "is missing", "is empty", "row 3 has
    /// 5 cells where its header has 7". How the store tells a damaged run from a finished one.
    /// </summary>
    /// <param name="mayBeEmpty">a table that can have no rows (a curve of an experiment that records none): only a missing file or a ragged row is wrong.</param>
    public static string? Problem(string path, bool mayBeEmpty = false)
    {
        if (!File.Exists(path)) return "is missing";
        string[] lines;
        try { lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray(); }
        catch (IOException e) { return $"is unreadable ({e.Message})"; }
        if (lines.Length == 0) return mayBeEmpty ? null : "is empty";
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return null; // another format: present and not empty is all we know
        var columns = Split(lines[0]).Length;
        for (int i = 1; i < lines.Length; i++)
            if (Split(lines[i]).Length is var cells && cells != columns) return $"row {i} has {cells} cells where its header has {columns}";
        return null;
    }

    /// <summary>snake_case of a parameter or property name: SequenceError → sequence_error.</summary>
    public static string Column(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    static ConstructorInfo Constructor<T>() =>
        typeof(T).GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault(c => c.GetParameters().Length > 0 && c.GetParameters()[0].ParameterType != typeof(T))
        ?? throw new ArgumentException($"{typeof(T).Name} needs a constructor with a parameter per column (a positional record).");

    static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static string FormatValue(object? value) => value switch
    {
        null => "",
        double d => double.IsNaN(d) ? "" : Format(d),
        bool b => b ? "true" : "false",
        Enum e => Column(e.ToString()),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(value.ToString() ?? ""),
    };

    static object? ParseValue(string text, Type type)
    {
        if (type == typeof(string)) return text;
        if (type == typeof(double)) return text.Length == 0 ? double.NaN : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        if (type == typeof(int)) return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        if (type == typeof(long)) return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
        if (type == typeof(bool)) return text switch { "true" or "1" => true, "false" or "0" => false, _ => null };
        if (type.IsEnum) return Enum.GetNames(type).FirstOrDefault(n => Column(n) == text) is { } name ? Enum.Parse(type, name) : null;
        return null;
    }

    static string Quote(string text) => text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    static void WriteCells(string path, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        var text = new StringBuilder(string.Join(",", header.Select(Quote))).Append('\n');
        foreach (var row in rows) text.Append(string.Join(",", row)).Append('\n');
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text.ToString()));
    }

    static (string[] Header, List<string[]> Rows)? ReadCells(string path)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) return null;
        return (Split(lines[0]), lines.Skip(1).Select(Split).ToList());
    }

    /// <summary>One CSV line into cells (RFC 4180 quoting; no line breaks inside cells).</summary>
    static string[] Split(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return [.. cells];
    }
}
