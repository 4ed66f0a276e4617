using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransformerLab.Cli.Publishing;

/// <summary>A notebook file could not be read; the message names the file and the problem.</summary>
public sealed class NotebookFormatException(string message) : Exception(message);

/// <summary>
/// A Jupyter notebook (nbformat 4) as VS Code Polyglot Notebooks writes it. The JSON tree is kept whole, so cell ids,
/// markdown and every metadata field survive a run; only outputs and execution counts are replaced.
/// </summary>
public sealed class NotebookDocument
{
    public JsonObject Root { get; }
    public string Path { get; }

    NotebookDocument(JsonObject root, string path) => (Root, Path) = (root, path);

    public JsonArray Cells => (JsonArray)Root["cells"]!;

    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new NotebookFormatException($"{path}: no such notebook file.");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8)); }
        catch (JsonException e) { throw new NotebookFormatException($"{path}: not valid JSON ({e.Message})."); }
        if (node is not JsonObject root || root["cells"] is not JsonArray cells)
            throw new NotebookFormatException($"{path}: not a Jupyter notebook (no \"cells\" array).");
        if (root["nbformat"]?.GetValue<int>() is int major && major != 4)
            throw new NotebookFormatException($"{path}: nbformat {major} is not supported (expected 4).");
        if (root["metadata"]?["kernelspec"]?["name"]?.GetValue<string>() is { } spec
            && !spec.StartsWith(".net", StringComparison.OrdinalIgnoreCase) && root["metadata"]?["polyglot_notebook"] is null)
            throw new NotebookFormatException($"{path}: a notebook for the '{spec}' kernel; research notebooks runs .NET Interactive (Polyglot) notebooks.");
        foreach (var (cell, i) in cells.Select((c, i) => (c, i)))
            if (cell is not JsonObject o || o["cell_type"] is null || o["source"] is null)
                throw new NotebookFormatException($"{path}: cell {i + 1} has no cell_type or source.");
        return new NotebookDocument(root, path);
    }

    /// <summary>A cell's source as one string.</summary>
    public static string Source(JsonObject cell) => Text(cell["source"]);

    /// <summary>Multi-line text as one string: nbformat stores it as a string or as a list of lines.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        JsonValue v => v.GetValue<string>(),
        _ => "",
    };

    /// <summary>
    /// The kernel a code cell is for: Polyglot's <c>metadata.polyglot_notebook.kernelName</c>, the older
    /// <c>metadata.dotnet_interactive.language</c>, else the notebook's default (C#).
    /// </summary>
    public string KernelOf(JsonObject cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
        ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>()
        ?? Root["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]?.GetValue<string>()
        ?? "csharp";

    /// <summary>Lines in the form nbformat stores them: each but the last ending in a newline.</summary>
    public static JsonArray Lines(string text)
    {
        var array = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0) { array.Add(text[start..]); break; }
            array.Add(text[start..(end + 1)]);
            start = end + 1;
        }
        return array;
    }

    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1, // as Jupyter and VS Code write notebooks: small diffs
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The notebook as UTF-8 JSON text (no BOM), with a final newline.</summary>
    public string ToJson() => Root.ToJsonString(WriteOptions) + "\n";

    /// <summary>A fresh notebook with Polyglot's metadata, for tools and tests that create notebooks.</summary>
    public static JsonObject NewRoot(IEnumerable<JsonObject> cells) => new()
    {
        ["cells"] = new JsonArray(cells.Select(c => (JsonNode)c).ToArray()),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
            ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            ["polyglot_notebook"] = new JsonObject
            {
                ["kernelInfo"] = new JsonObject
                {
                    ["defaultKernelName"] = "csharp",
                    ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                },
            },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
    };

    public static JsonObject CodeCell(string id, string source) => new()
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["id"] = id,
        ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
        ["outputs"] = new JsonArray(),
        ["source"] = Lines(source),
    };

    public static JsonObject MarkdownCell(string id, string source) => new()
    {
        ["cell_type"] = "markdown",
        ["id"] = id,
        ["metadata"] = new JsonObject(),
        ["source"] = Lines(source),
    };
}
