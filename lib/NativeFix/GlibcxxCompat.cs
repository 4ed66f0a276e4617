using System.Runtime.InteropServices;
using TransformerLab.Runtime;

namespace TransformerLab.NativeFix;

/// <summary>What <see cref="GlibcxxCompat.Apply"/> found and did.</summary>
public enum FixOutcome
{
    /// <summary>The system libstdc++ has every version the library needs: the file is left as it is.</summary>
    NotNeeded,
    /// <summary>The file needed versions the system lacks; they are now weak and their symbols retargeted.</summary>
    Patched,
    /// <summary>An earlier run already patched the file.</summary>
    AlreadyPatched,
}

/// <summary>The outcome for one file, with one line per edit made (empty unless patched).</summary>
public sealed record FixReport(FixOutcome Outcome, IReadOnlyList<string> MissingVersions, IReadOnlyList<string> Edits);

/// <summary>The library needs something from libstdc++ that no in-place edit can safely give it.</summary>
public sealed class NativeFixException(string message) : Exception(message);

/// <summary>
/// Makes TorchSharp's <c>libLibTorchSharp.so</c> load against an older libstdc++.
/// <para>
/// TorchSharp 0.107.0 is built with GCC 13 and so requires <c>GLIBCXX_3.4.32</c>, but only for one symbol,
/// <c>_ZSt21ios_base_library_initv</c>: a hook GCC 13 references so that iostreams are initialised inside
/// libstdc++. Debian 12 and Ubuntu 22.04 ship libstdc++ up to <c>GLIBCXX_3.4.30</c>, whose own static
/// initialisers already set up iostreams. The fix marks the missing version requirement weak (the dynamic linker
/// then only warns) and retargets the hook to a harmless unversioned libc function, by renaming its
/// <c>.dynstr</c> entry in place. Nothing else in the file changes.
/// </para>
/// </summary>
public static class GlibcxxCompat
{
    public const string LibraryFileName = "libLibTorchSharp.so";
    const string LibStdCxx = "libstdc++.so.6";

    /// <summary>
    /// Symbols known to be safe to retarget, with their replacement. A replacement must be shorter than the
    /// original (it is written in place) and callable as <c>void f(void)</c> without side effects.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SafeRetargets = new Dictionary<string, string>
    {
        ["_ZSt21ios_base_library_initv"] = "getpid",
    };

    /// <summary>The libstdc++ version names needed by <paramref name="image"/> that <paramref name="provided"/> lacks.</summary>
    public static IReadOnlyList<VersionNeedAux> MissingVersions(ElfImage image, IReadOnlySet<string> provided) =>
        image.VersionNeeds()
            .Where(n => n.File == LibStdCxx)
            .SelectMany(n => n.Versions)
            .Where(v => !provided.Contains(v.Name))
            .ToList();

    /// <summary>
    /// Edits <paramref name="image"/> in memory so that it loads against a libstdc++ that defines
    /// <paramref name="provided"/> versions. Idempotent: a second call reports <see cref="FixOutcome.AlreadyPatched"/>.
    /// </summary>
    /// <exception cref="NativeFixException">A missing version is needed by a symbol this fix cannot retarget safely.</exception>
    public static FixReport Apply(ElfImage image, IReadOnlySet<string> provided)
    {
        var missing = MissingVersions(image, provided);
        if (missing.Count == 0) return new FixReport(FixOutcome.NotNeeded, [], []);

        var byIndex = missing.ToDictionary(v => v.Index);
        var users = Enumerable.Range(0, image.SymbolCount)
            .Where(i => byIndex.ContainsKey(image.SymbolVersionIndex(i)))
            .ToList();

        var unsafeUsers = users.Where(i => !image.IsUndefined(i) || !SafeRetargets.ContainsKey(image.SymbolName(i))).ToList();
        if (unsafeUsers.Count > 0)
            throw new NativeFixException(
                "libLibTorchSharp.so needs from libstdc++ " +
                string.Join(", ", unsafeUsers.Select(i => $"{image.SymbolName(i)}@{byIndex[image.SymbolVersionIndex(i)].Name}")) +
                ", which this system's libstdc++ does not provide and which cannot be stubbed safely. " +
                "Install a newer libstdc++ (GCC 13 or later: libstdc++6 from your distribution's backports), " +
                "or point LD_LIBRARY_PATH at one.");

        var namesInUse = image.ReferencedStringOffsets().ToList();
        var edits = new List<string>();
        foreach (var i in users)
        {
            int at = image.SymbolNameOffset(i);
            string name = image.SymbolName(i), target = SafeRetargets[name];
            // Tail-merged string tables may let another entry point into this name; renaming would rename it too.
            if (namesInUse.Any(o => o > at && o < at + name.Length) || namesInUse.Count(o => o == at) > 1)
                throw new NativeFixException($"The name {name} shares its bytes in .dynstr with another entry; refusing to rename it.");
            var version = byIndex[image.SymbolVersionIndex(i)].Name;
            image.SetSymbolVersionIndex(i, ElfImage.VersionIndexGlobal);
            image.OverwriteString(at, target);
            edits.Add($"symbol {i}: {name}@{version} -> {target} (unversioned)");
        }
        foreach (var v in missing.Where(v => !v.IsWeak))
        {
            image.SetVersionNeedFlags(v, (ushort)(v.Flags | ElfImage.VerFlagWeak));
            edits.Add($"version need {v.Name}: flags 0x{v.Flags:x} -> 0x{v.Flags | ElfImage.VerFlagWeak:x} (weak)");
        }

        return new FixReport(edits.Count == 0 ? FixOutcome.AlreadyPatched : FixOutcome.Patched,
            missing.Select(v => v.Name).ToList(), edits);
    }

    /// <summary>
    /// Applies the fix to the file at <paramref name="path"/>. The file is replaced atomically (written beside it,
    /// then renamed), which also breaks any hard link into the NuGet cache rather than editing through it.
    /// </summary>
    public static FixReport ApplyToFile(string path, IReadOnlySet<string> provided)
    {
        var image = ElfImage.Load(path);
        var report = Apply(image, provided);
        if (report.Outcome == FixOutcome.Patched) AtomicFile.WriteAllBytes(path, image.Bytes);
        return report;
    }

    /// <summary>True when <paramref name="path"/> carries this fix (some libstdc++ version need is weak).</summary>
    public static bool IsPatched(string path) =>
        ElfImage.Load(path).VersionNeeds().Where(n => n.File == LibStdCxx).SelectMany(n => n.Versions).Any(v => v.IsWeak);
}

/// <summary>Finds the libstdc++ the dynamic linker would load and reads the versions it defines.</summary>
public static class SystemLibStdCxx
{
    /// <summary>The path of libstdc++.so.6 as the dynamic linker would search for it, or null if none is found.</summary>
    public static string? Find()
    {
        var triple = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            _ => null,
        };
        var dirs = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (triple is not null) dirs.AddRange([$"/lib/{triple}", $"/usr/lib/{triple}"]);
        dirs.AddRange(["/lib64", "/usr/lib64", "/lib", "/usr/lib"]);
        return dirs.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }

    /// <summary>The version names (GLIBCXX_*, CXXABI_*) the library at <paramref name="path"/> defines.</summary>
    public static IReadOnlySet<string> DefinedVersions(string path) => ElfImage.Load(path).VersionDefinitions().ToHashSet();
}
