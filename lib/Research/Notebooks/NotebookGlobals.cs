using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Formatting;

namespace TransformerLab.Cli.Notebooks;

/// <summary>
/// What a notebook's code sees besides its own declarations: <c>display(value[, mime])</c>, as in Polyglot Notebooks.
/// Outputs go to the cell being executed.
/// </summary>
public sealed class NotebookGlobals
{
    internal JsonArray? Outputs { get; set; }

    /// <summary>Shows <paramref name="value"/> below the cell, formatted as <paramref name="mimeTypes"/> (default: its preferred type).</summary>
    public object? display(object? value, params string[] mimeTypes)
    {
        (Outputs ?? throw new InvalidOperationException("display() was called outside a cell.")).Add(DisplayData(value, mimeTypes));
        return value;
    }

    /// <summary>An nbformat <c>display_data</c> output for a value: its preferred MIME type (or those asked for), and text/plain.</summary>
    public static JsonObject DisplayData(object? value, params string[] mimeTypes)
    {
        var data = new JsonObject();
        if (value is null)
        {
            data["text/plain"] = "<null>";
        }
        else
        {
            var types = mimeTypes.Length > 0 ? mimeTypes : Formatter.GetPreferredMimeTypesFor(value.GetType()).ToArray();
            if (value is string) types = mimeTypes.Length > 0 ? mimeTypes : [PlainTextFormatter.MimeType];
            foreach (var mime in types.Append(PlainTextFormatter.MimeType).Distinct())
                data[mime] = NotebookDocument.Lines(mime == PlainTextFormatter.MimeType ? PlainText(value) : value.ToDisplayString(mime));
        }
        return new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };
    }

    /// <summary>The text/plain fallback: a one-line summary for charts and tables (their object dump is noise in a diff).</summary>
    static string PlainText(object value) => value switch
    {
        string s => s,
        Plotly.NET.GenericChart => "Plotly chart",
        Microsoft.Data.Analysis.DataFrame f => $"DataFrame: {f.Rows.Count} rows × {f.Columns.Count} columns",
        _ => value.ToDisplayString(PlainTextFormatter.MimeType),
    };
}
