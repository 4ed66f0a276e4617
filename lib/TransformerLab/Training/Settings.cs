using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using TransformerLab.Runtime;

namespace TransformerLab.Training;

/// <summary>
/// Reads and writes a settings record as <c>snake_case = value</c> pairs: the keys of <c>--set key=value</c>, of a
/// <c>--config</c> JSON file and of sweep grids. Every property with a public init accessor of a simple type
/// (number, bool, string, enum) is a key; a property that holds a record of its own (e.g. <c>TrainingSettings.Model</c>,
/// a <see cref="Model.TransformerConfig"/>) contributes that record's keys, flat, at its place — except those marked
/// <see cref="Model.FromDataAttribute"/>. Records are copied with their copy constructor (C#'s <c>with</c>), so the
/// value passed in is never changed.
/// </summary>
public static class Settings
{
    /// <summary>Every key of <paramref name="value"/>'s type, with its type name and value.</summary>
    public static IReadOnlyList<(string Key, string Type, string Value)> Describe<T>(T value) where T : class =>
        Properties(value.GetType()).Select(p => (p.Key, TypeName(p.Type), Format(p.Get(value)))).ToList();

    /// <summary>
    /// Each key's one-line description: the summary of its property's XML documentation, which the build writes beside the
    /// library — so a key is described once, where it is declared. Empty where the file or the summary is missing.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Descriptions(Type type)
    {
        var file = Path.ChangeExtension(type.Assembly.Location, ".xml");
        var summaries = File.Exists(file)
            ? System.Xml.Linq.XDocument.Load(file).Descendants("member")
                .Where(m => ((string?)m.Attribute("name"))?.StartsWith("P:", StringComparison.Ordinal) == true && m.Element("summary") is not null)
                .ToDictionary(m => ((string)m.Attribute("name")!)[2..], m => OneLine(m.Element("summary")!))
            : [];
        return Properties(type).ToDictionary(p => p.Key, p => summaries.GetValueOrDefault($"{p.Property.DeclaringType!.FullName}.{p.Property.Name}", ""));
    }

    /// <summary>A doc summary as plain text on one line; a <c>&lt;see cref&gt;</c> reads as the key or name it points to.</summary>
    static string OneLine(System.Xml.Linq.XElement summary)
    {
        var text = string.Concat(summary.Nodes().Select(n => n switch
        {
            System.Xml.Linq.XText t => t.Value,
            System.Xml.Linq.XElement { Name.LocalName: "see" } e => Snake(((string?)e.Attribute("cref") ?? "").Split('.')[^1]),
            System.Xml.Linq.XElement e => e.Value,
            _ => "",
        }));
        return string.Join(' ', text.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Returns a copy of <paramref name="value"/> with each <c>key=value</c> applied, in order.</summary>
    /// <exception cref="SettingsException">an unknown key (the message lists the valid ones) or a value of the wrong type.</exception>
    public static T With<T>(T value, IEnumerable<KeyValuePair<string, string>> assignments) where T : class
    {
        var copy = Copy(value);
        var properties = Properties(value.GetType()).ToDictionary(p => p.Key);
        foreach (var (key, text) in assignments)
        {
            if (!properties.TryGetValue(key, out var property))
                throw new SettingsException($"Unknown setting '{key}'. Valid settings: {string.Join(", ", properties.Keys)}.");
            property.Set(copy, Parse(key, text, property.Type));
        }
        return copy;
    }

    /// <summary>Parses <c>key=value</c> (the form of <c>--set</c>).</summary>
    public static KeyValuePair<string, string> Assignment(string text)
    {
        var i = text.IndexOf('=');
        if (i <= 0) throw new SettingsException($"Expected key=value, got '{text}'.");
        return new(text[..i].Trim(), text[(i + 1)..].Trim());
    }

    /// <summary>Reads a JSON object of settings (<c>{"d_model": 256, "norm": "pre"}</c>) as assignments.</summary>
    public static IEnumerable<KeyValuePair<string, string>> FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new SettingsException($"Config file not found: {path}.");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new SettingsException($"Config file {path} is not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new SettingsException($"Config file {path} must hold one JSON object of settings.");
        return Assignments(obj);
    }

    /// <summary>
    /// A JSON object's members as assignments: strings as they are, numbers and booleans as their JSON text. Keys that
    /// an earlier version wrote under another spelling are read under their current one, so old runs and checkpoints load.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Assignments(JsonObject obj)
    {
        var assignments = obj.Select(kv => new KeyValuePair<string, string>(RenamedKeys.GetValueOrDefault(kv.Key, kv.Key),
            kv.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : kv.Value?.ToJsonString() ?? "")).ToList();
        return [.. assignments.Select(a => a.Key == "attention_window" && OwnAttentionParameter(assignments) is { } own ? new(own, a.Value) : a)];
    }

    /// <summary>
    /// Before issue 37 attention_window was also the strided pattern's stride and Linformer's rank. A file written then
    /// (it names attention strided or linformer and has no attention_stride or attention_rank) means that kernel's own
    /// parameter by it; null for every other file.
    /// </summary>
    static string? OwnAttentionParameter(IReadOnlyList<KeyValuePair<string, string>> assignments)
    {
        var own = Model.TransformerConfig.ParameterKey(assignments.LastOrDefault(a => a.Key == "attention").Value);
        return own is not (null or "attention_window") && assignments.All(a => a.Key != own) ? own : null;
    }

    /// <summary>Old spelling → current key (the scheduled-sampling keys were briefly written without their underscore).</summary>
    static readonly Dictionary<string, string> RenamedKeys = new(StringComparer.Ordinal) { ["samplingk"] = "sampling_k", ["samplingc"] = "sampling_c" };

    /// <summary>The settings as a JSON object, keys in declaration order.</summary>
    public static string ToJson<T>(T value) where T : class
    {
        var obj = new JsonObject();
        foreach (var p in Properties(value.GetType()))
        {
            var v = p.Get(value);
            obj[p.Key] = v switch
            {
                null => null,
                Enum e => JsonValue.Create(Format(e)),
                _ => JsonSerializer.SerializeToNode(v),
            };
        }
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote, starting from <paramref name="defaults"/>.</summary>
    public static T FromJson<T>(string json, T defaults) where T : class
    {
        var obj = JsonNode.Parse(json) as JsonObject ?? throw new SettingsException("Settings JSON must be an object.");
        return With(defaults, Assignments(obj));
    }

    /// <summary>
    /// The key of a property: its name in snake_case (DModel → d_model, LabelSmoothing → label_smoothing), or the
    /// name its <see cref="System.Text.Json.Serialization.JsonPropertyNameAttribute"/> gives (DFF → d_ff).
    /// </summary>
    public static string Key(PropertyInfo property) =>
        property.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? Snake(property.Name);

    /// <summary>One key: the property that holds its value, inside the records <see cref="Path"/> leads through (empty: at the top).</summary>
    sealed record Setting(PropertyInfo[] Path, PropertyInfo Property)
    {
        public string Key => Settings.Key(Property);
        public Type Type => Property.PropertyType;
        public object? Get(object settings) => Property.GetValue(Path.Aggregate(settings, (record, p) => p.GetValue(record)!));

        /// <summary>Sets the value in <paramref name="settings"/> (a copy the caller owns); each record on the path is copied first.</summary>
        public void Set(object settings, object value) => Set(settings, 0, value);

        void Set(object record, int depth, object value)
        {
            if (depth == Path.Length) { Property.SetValue(record, value); return; }
            var inner = Copy(Path[depth].GetValue(record)!);
            Set(inner, depth + 1, value);
            Path[depth].SetValue(record, inner);
        }
    }

    /// <summary>The keys of a settings type, in declaration order (a nested record's keys, at any depth, at its place).</summary>
    static IEnumerable<Setting> Properties(Type type) => Properties(type, []);

    static IEnumerable<Setting> Properties(Type type, PropertyInfo[] path) =>
        Declared(type).SelectMany(p => IsSimple(p.PropertyType) ? [new Setting(path, p)]
            : IsRecord(p.PropertyType) ? Properties(p.PropertyType, [.. path, p])
            : []);

    static IEnumerable<PropertyInfo> Declared(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetCustomAttribute<Model.FromDataAttribute>() is null)
            .OrderBy(p => p.MetadataToken); // declaration order, for listings and settings.json; run keys do not depend on it

    /// <summary>A record's copy constructor, which C# gives every record and <c>with</c> calls.</summary>
    static ConstructorInfo? CopyConstructor(Type type) =>
        type.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [type]);

    static bool IsRecord(Type type) => type.IsClass && type != typeof(string) && CopyConstructor(type) is not null;

    static T Copy<T>(T value) where T : class =>
        (T)(CopyConstructor(value.GetType()) ?? throw new ArgumentException($"{value.GetType().Name} is not a record: settings must be records.")).Invoke([value]);

    static bool IsSimple(Type t) => t.IsEnum || t == typeof(string) || t == typeof(bool) || t == typeof(int) || t == typeof(long) || t == typeof(double);

    static object Parse(string key, string text, Type type)
    {
        var fail = () => new SettingsException($"Setting '{key}' expects {TypeName(type)}, got '{text}'.");
        if (type == typeof(string)) return text;
        if (type == typeof(bool)) return text.ToLowerInvariant() switch { "true" or "1" or "yes" => true, "false" or "0" or "no" => false, _ => throw fail() };
        if (type == typeof(int)) return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw fail();
        if (type == typeof(long)) return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : throw fail();
        if (type == typeof(double)) return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : throw fail();
        if (type.IsEnum)
        {
            var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(Snake(n), text.Replace('-', '_'), StringComparison.OrdinalIgnoreCase) || string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            return match is not null ? Enum.Parse(type, match) : throw fail();
        }
        throw fail();
    }

    static string TypeName(Type t) =>
        t.IsEnum ? "one of " + string.Join(" | ", Enum.GetNames(t).Select(Snake))
        : t == typeof(string) ? "a string" : t == typeof(bool) ? "true or false"
        : t == typeof(int) || t == typeof(long) ? "an integer" : "a number";

    static string Format(object? v) => v switch
    {
        null => "",
        Enum e => Snake(e.ToString()),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>An underscore before each capital that starts a lower-case run: DModel → d_model, InverseSqrt → inverse_sqrt, ReLU → relu.</summary>
    static string Snake(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && i + 1 < pascal.Length && char.IsLower(pascal[i + 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}
