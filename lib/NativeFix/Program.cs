using TransformerLab.NativeFix;

// Run by the build (Directory.Build.targets) on every output folder that carries TorchSharp's natives:
//   TransformerLab.NativeFix <folder>
// Patches each libLibTorchSharp.so below <folder> when the system libstdc++ lacks a version it needs.
if (args.Length != 1 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: TransformerLab.NativeFix <output folder>");
    return 2;
}
if (!OperatingSystem.IsLinux())
{
    Console.WriteLine("NativeFix: not Linux, nothing to do.");
    return 0;
}
var folder = args[0];
if (!Directory.Exists(folder))
{
    Console.Error.WriteLine($"NativeFix: error: folder '{folder}' does not exist.");
    return 2;
}
var libstdcxx = SystemLibStdCxx.Find();
if (libstdcxx is null)
{
    Console.WriteLine("NativeFix: warning: no libstdc++.so.6 found on this system; leaving TorchSharp's natives unchanged.");
    return 0;
}

var provided = SystemLibStdCxx.DefinedVersions(libstdcxx);
var exit = 0;
foreach (var file in Directory.EnumerateFiles(folder, GlibcxxCompat.LibraryFileName, SearchOption.AllDirectories))
{
    try
    {
        var report = GlibcxxCompat.ApplyToFile(file, provided);
        var detail = report.Outcome == FixOutcome.NotNeeded
            ? $"{libstdcxx} has every version it needs"
            : $"{libstdcxx} lacks {string.Join(", ", report.MissingVersions)}";
        Console.WriteLine($"NativeFix: {Path.GetRelativePath(folder, file)}: {report.Outcome} ({detail})");
        foreach (var edit in report.Edits) Console.WriteLine($"NativeFix:   {edit}");
    }
    catch (Exception e) when (e is NativeFixException or InvalidDataException or IOException)
    {
        // MSBuild turns "error :" lines into build errors that name the file.
        Console.Error.WriteLine($"{file}: error NATIVEFIX: {e.Message}");
        exit = 1;
    }
}
return exit;
