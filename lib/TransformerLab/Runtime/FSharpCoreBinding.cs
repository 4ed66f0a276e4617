using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace TransformerLab.Runtime;

/// <summary>
/// One FSharp.Core for every F# library in the process (Plotly.NET, Giraffe.ViewEngine, DynamicObj).
/// <para>
/// The .NET Interactive kernel (what VS Code Polyglot Notebooks runs) carries FSharp.Core 10.0.0.0 in its default load
/// context for its F# kernel. Plotly.NET 6.0.0 asks for 10.1.0.0: the default context refuses the lower version, and the
/// kernel's script loader then loads our 10.1 copy into a load context of its own — so Plotly.NET and Giraffe see two
/// different FSharp.Core's, and every chart dies in Plotly.NET's <c>$Defaults</c> initialiser with a
/// <see cref="MissingMethodException"/>. Answering the default context's failed look-up with the copy it already holds
/// keeps one FSharp.Core (the F# libraries we use need nothing newer than 10.0). A host without FSharp.Core of its own
/// gets ours, loaded into the default context.
/// </para>
/// Registered by this library's module initializer, so before any Plotly.NET type can load; <see cref="Ensure"/> is idempotent.
/// </summary>
public static class FSharpCoreBinding
{
    const string FSharpCore = "FSharp.Core";
    static int _registered;

    [ModuleInitializer] // in a library on purpose: a notebook kernel that #r-s it needs the binding before Plotly.NET loads
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "see the comment above")]
    internal static void Initialize() => Ensure();

    /// <summary>Registers the resolver with the default load context, once per process.</summary>
    public static void Ensure()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += Resolve;
    }

    /// <summary>The FSharp.Core every F# library in this process binds to: the default context's, once one is loaded.</summary>
    public static Assembly? Loaded =>
        AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == FSharpCore);

    static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        if (!string.Equals(name.Name, FSharpCore, StringComparison.Ordinal)) return null;
        if (Loaded is { } loaded) return loaded;
        var ours = Path.Combine(Path.GetDirectoryName(typeof(FSharpCoreBinding).Assembly.Location) ?? "", FSharpCore + ".dll");
        return File.Exists(ours) ? context.LoadFromAssemblyPath(ours) : null;
    }
}
