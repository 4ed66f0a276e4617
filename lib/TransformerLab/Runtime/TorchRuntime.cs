using System.Reflection;
using TorchSharp;
using TransformerLab.NativeFix;
using static TorchSharp.torch;

namespace TransformerLab.Runtime;

/// <summary>TorchSharp could not load its native backend; the message says what was tried and what to do.</summary>
public sealed class TorchLoadException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The one door to LibTorch: loads it with a clear error, parses device names, seeds every random source
/// and reports the environment (<c>research doctor</c>).
/// </summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool _loaded;

    /// <summary>Loads LibTorch's CPU backend once; throws <see cref="TorchLoadException"/> with a diagnosis on failure.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
                PatchNativeCopies();
                torch.InitializeDeviceType(DeviceType.CPU);
                _loaded = true;
            }
            catch (Exception e)
            {
                throw new TorchLoadException(Diagnose(e), e);
            }
        }
    }

    /// <summary>
    /// The build patches TorchSharp's natives in our own output folders (Directory.Build.targets). A host built
    /// elsewhere (another project referencing this library, a notebook kernel) may carry unpatched copies: apply
    /// the same idempotent fix to them before LibTorch is first loaded. A no-op where it is not needed, and silent
    /// where the folder is read-only (the load then fails with <see cref="Diagnose"/>'s explanation).
    /// </summary>
    static void PatchNativeCopies()
    {
        if (!OperatingSystem.IsLinux()) return;
        var libstdcxx = SystemLibStdCxx.Find();
        if (libstdcxx is null) return;
        var provided = SystemLibStdCxx.DefinedVersions(libstdcxx);
        foreach (var copy in NativeLibraryCandidates())
        {
            try { GlibcxxCompat.ApplyToFile(copy, provided); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NativeFixException) { }
        }
    }

    /// <summary>
    /// Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. CUDA needs TorchSharp-cuda-linux or TorchSharp-cuda-windows
    /// referenced instead of TorchSharp-cpu; otherwise the error says so.
    /// </summary>
    public static Device Device(string name)
    {
        EnsureLoaded();
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException(
                    $"Device '{name}' was asked for, but CUDA is not available: this build references TorchSharp-cpu. " +
                    "Reference TorchSharp-cuda-linux (or -windows) in Directory.Packages.props on a machine with an NVIDIA GPU, or use --device cpu.");
            return torch.device(n);
        }
        throw new ArgumentException($"Unknown device '{name}': use cpu, cuda or cuda:N.");
    }

    /// <summary>Seeds torch (CPU and CUDA) so that the same seed gives the same parameters, batches and samples.</summary>
    public static void Seed(long seed)
    {
        EnsureLoaded();
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>The TorchSharp managed assembly's version, e.g. 0.107.0.</summary>
    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The copies of libLibTorchSharp.so a host may load: flat beside TorchSharp.dll, or under runtimes/.</summary>
    public static IEnumerable<string> NativeLibraryCandidates()
    {
        var dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var p in new[]
                 {
                     Path.Combine(dir, GlibcxxCompat.LibraryFileName),
                     Path.Combine(dir, "runtimes", "linux-x64", "native", GlibcxxCompat.LibraryFileName),
                     Path.Combine(dir, "runtimes", "linux-arm64", "native", GlibcxxCompat.LibraryFileName),
                 })
            if (File.Exists(p)) yield return p;
    }

    /// <summary>One line on the libstdc++ fix: whether this system needs it and whether the loaded copies carry it.</summary>
    public static string NativeFixStatus()
    {
        if (!OperatingSystem.IsLinux()) return "not needed (not Linux)";
        var libstdcxx = SystemLibStdCxx.Find();
        if (libstdcxx is null) return "unknown (no libstdc++.so.6 found)";
        var provided = SystemLibStdCxx.DefinedVersions(libstdcxx);
        var copies = NativeLibraryCandidates().ToList();
        if (copies.Count == 0) return $"unknown (no {GlibcxxCompat.LibraryFileName} beside TorchSharp.dll)";
        var needed = GlibcxxCompat.MissingVersions(ElfImage.Load(copies[0]), provided);
        if (needed.Count == 0) return $"not needed ({libstdcxx} has every version TorchSharp needs)";
        var torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location)!;
        var states = copies.Select(c => $"{Path.GetRelativePath(torchDir, c)} {(GlibcxxCompat.IsPatched(c) ? "patched" : "NOT patched")}");
        return $"needed ({libstdcxx} lacks {string.Join(", ", needed.Select(v => v.Name))}): {string.Join(", ", states)}";
    }

    static string Diagnose(Exception e)
    {
        var lines = new List<string>
        {
            "TorchSharp could not load LibTorch.",
            $"  TorchSharp {TorchSharpVersion} at {typeof(torch).Assembly.Location}",
            $"  Native library copies: {string.Join(", ", NativeLibraryCandidates().DefaultIfEmpty("none found"))}",
        };
        try { lines.Add($"  libstdc++ fix: {NativeFixStatus()}"); }
        catch (Exception inner) { lines.Add($"  libstdc++ fix: could not be checked ({inner.Message})"); }
        var root = e;
        while (root.InnerException is not null) root = root.InnerException;
        lines.Add($"  Cause: {root.GetType().Name}: {FirstLines(root.Message, 3)}");
        lines.Add("What to do: build through the solution (`dotnet build Research.sln`), which patches the copies in each output folder " +
                  "for systems whose libstdc++ is older than GCC 13's; load TransformerLab.dll from its own build folder " +
                  "(lib/TransformerLab/bin/<Configuration>/net10.0/), where the natives sit beside TorchSharp.dll; or install a libstdc++ " +
                  "that provides GLIBCXX_3.4.32.");
        return string.Join(Environment.NewLine, lines);
    }

    static string FirstLines(string s, int n) => string.Join(" ", s.Split('\n').Take(n).Select(l => l.Trim()));
}
