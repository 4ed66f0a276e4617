using System.Reflection;
using Microsoft.FSharp.Core;
using Plotly.NET;

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
        var withTitle = typeof(Chart).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == "withTitle" && m.GetParameters()[0].ParameterType == typeof(Title));
        var apply = (FSharpFunc<GenericChart, GenericChart>)withTitle.Invoke(null, [text, .. withTitle.GetParameters().Skip(1).Select(_ => (object?)null)])!;
        return apply.Invoke(chart);
    }

    /// <summary>Calls a static F# member, giving the named arguments and None for every other option.</summary>
    static T CallWithOptions<T>(Type type, string name, Dictionary<string, object?> arguments)
    {
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Single(m => m.Name == name);
        var values = method.GetParameters().Select(p => arguments.TryGetValue(p.Name!, out var v) ? v : null).ToArray();
        return (T)method.Invoke(null, values)!;
    }
}
