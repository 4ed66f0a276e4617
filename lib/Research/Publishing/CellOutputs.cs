using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.Events;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// A cell's kernel events as nbformat outputs, the way an executed notebook stores them: standard output and error as
/// <c>stream</c> (consecutive writes merged), <c>display(…)</c> as <c>display_data</c> (updated in place when the kernel
/// updates a displayed value), the cell's value as <c>execute_result</c>, a failure as <c>error</c>. Every MIME type the
/// kernel formatted is kept as it sent it.
/// </summary>
public sealed partial class CellOutputs(JsonArray outputs, int executionCount)
{
    readonly Dictionary<string, JsonObject> _displayed = [];
    readonly Dictionary<JsonObject, StringBuilder> _streams = [];

    /// <summary>The first error of the cell, as one line: what the run summary shows.</summary>
    public string? Error { get; private set; }

    public void Add(KernelEvent e)
    {
        switch (e)
        {
            case StandardOutputValueProduced o: Stream("stdout", o.FormattedValues); break;
            case StandardErrorValueProduced o: Stream("stderr", o.FormattedValues); break;
            case ErrorProduced o: Fail(o.Message); break;
            case ReturnValueProduced o: Display("execute_result", o); break;
            case DisplayedValueUpdated o when o.ValueId is { } id && _displayed.TryGetValue(id, out var shown):
                shown["data"] = Data(o.FormattedValues);
                break;
            case DisplayEvent o: Display("display_data", o); break;
            case CommandFailed o when Error is null: Fail(o.Message); break; // unless ErrorProduced said it already
        }
    }

    void Stream(string name, IEnumerable<FormattedValue> values)
    {
        var text = string.Concat(values.Where(v => v.MimeType == "text/plain").Select(v => v.Value));
        if (text.Length == 0) return;
        if (outputs.Count == 0 || outputs[^1] is not JsonObject last || !_streams.TryGetValue(last, out var buffer)
            || last["name"]?.GetValue<string>() != name)
        {
            last = new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = new JsonArray() };
            outputs.Add(last);
            _streams[last] = buffer = new StringBuilder();
        }
        buffer.Append(text);
        last["text"] = NotebookDocument.Lines(buffer.ToString());
    }

    void Display(string type, DisplayEvent e)
    {
        var data = Data(e.FormattedValues);
        if (data.Count == 0) return;
        var output = new JsonObject { ["output_type"] = type, ["data"] = data, ["metadata"] = new JsonObject() };
        if (type == "execute_result") output["execution_count"] = executionCount;
        outputs.Add(output);
        if (e.ValueId is { } id) _displayed[id] = output;
    }

    static JsonObject Data(IEnumerable<FormattedValue> values)
    {
        var data = new JsonObject();
        foreach (var v in values.Where(v => !v.SuppressDisplay)) data[v.MimeType] = NotebookDocument.Lines(v.Value ?? "");
        return data;
    }

    /// <summary>
    /// A failure as an <c>error</c> output. The kernel reports an exception as its text ("System.X: message\n   at …")
    /// and a compilation error as its diagnostics: the type becomes <c>ename</c>, the first line <c>evalue</c>.
    /// </summary>
    public void Fail(string message)
    {
        var lines = message.Replace("\r\n", "\n").TrimEnd().Split('\n');
        var first = ExceptionLine().Match(lines[0]);
        var (name, value) = first.Success ? (first.Groups[1].Value, first.Groups[2].Value) : ("Error", lines[0]);
        outputs.Add(new JsonObject
        {
            ["output_type"] = "error",
            ["ename"] = name,
            ["evalue"] = value,
            ["traceback"] = new JsonArray(lines.Select(l => (JsonNode)l).ToArray()),
        });
        Error ??= first.Success ? $"{name}: {value}" : value;
    }

    [GeneratedRegex(@"^((?:[A-Za-z_][\w`]*\.)*[A-Za-z_]\w*(?:Exception|Error)): ?(.*)$")]
    private static partial Regex ExceptionLine();
}
