using System.Reflection;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;

namespace TransformerLab.Notebooks;

/// <summary>
/// What the notebooks need from Plotly.NET that its C# bindings (0.14) lack. Plotly.NET's F# functions take every
/// option as an <c>FSharpOption</c>, which C# cannot omit; here the unset ones are passed as <c>None</c> (null).
/// </summary>
public static class Plots
{
    /// <summary>Sets the chart's title.</summary>
    public static GenericChart WithTitle(this GenericChart chart, string title)
    {
        var text = CallWithOptions<Title>(typeof(Title), "init", new() { ["Text"] = FSharpOption<string>.Some(title) });
        var withTitle = typeof(Plotly.NET.Chart).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == "withTitle" && m.GetParameters()[0].ParameterType == typeof(Title));
        var apply = (FSharpFunc<GenericChart, GenericChart>)withTitle.Invoke(null, [text, .. withTitle.GetParameters().Skip(1).Select(_ => (object?)null)])!;
        return apply.Invoke(chart);
    }

    /// <summary>
    /// An attention map as a heatmap: rows are queries, columns keys, read top to bottom like the matrix.
    /// </summary>
    /// <param name="weights"><c>[query time, key time]</c></param>
    public static GenericChart AttentionHeatmap(TorchSharp.torch.Tensor weights, IReadOnlyList<string> keys, IReadOnlyList<string> queries, string title)
    {
        var rows = weights.to(TorchSharp.torch.ScalarType.Float64).cpu().data<double>().ToArray().Chunk((int)weights.shape[1]).ToArray();
        // Plotly draws row 0 at the bottom; label rows by position so repeated symbols stay distinct, and reverse the axis.
        var x = keys.Select((k, i) => $"{i}:{k}").ToArray();
        var y = queries.Select((q, i) => $"{i}:{q}").ToArray();
        var chart = Plotly.NET.CSharp.Chart.Heatmap<double, string, string, string>(rows, X: x, Y: y, ReverseYAxis: true)
            .WithXAxisStyle<double, double, string>(TitleText: "key")
            .WithYAxisStyle<double, double, string>(TitleText: "query");
        return chart.WithTitle(title);
    }

    /// <summary>Calls a static F# member, giving the named arguments and None for every other option.</summary>
    static T CallWithOptions<T>(Type type, string name, Dictionary<string, object?> arguments)
    {
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Single(m => m.Name == name);
        var values = method.GetParameters().Select(p => arguments.TryGetValue(p.Name!, out var v) ? v : null).ToArray();
        return (T)method.Invoke(null, values)!;
    }
}
