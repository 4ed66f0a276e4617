using System.Reflection;
using TransformerLab.NativeFix;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>
/// The libstdc++ fix on the real libLibTorchSharp.so of the TorchSharp package. The tests simulate Debian 12's
/// libstdc++ (every version the library needs except GLIBCXX_3.4.32), so they mean the same on any machine.
/// </summary>
public class GlibcxxCompatTests
{
    const string Hook = "_ZSt21ios_base_library_initv", Missing = "GLIBCXX_3.4.32";

    static string OriginalLibrary()
    {
        var root = typeof(GlibcxxCompatTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        var path = Path.Combine(root, "torchsharp", TorchRuntime.TorchSharpVersion, "runtimes", "linux-x64", "native", GlibcxxCompat.LibraryFileName);
        Assert.True(File.Exists(path), $"TorchSharp's native library is not at {path}");
        return path;
    }

    static byte[] OriginalBytes() => File.ReadAllBytes(OriginalLibrary());

    /// <summary>Debian 12's libstdc++: everything libLibTorchSharp.so asks of libstdc++ except GLIBCXX_3.4.32.</summary>
    static IReadOnlySet<string> Debian12(ElfImage image) =>
        image.VersionNeeds().SelectMany(n => n.Versions).Select(v => v.Name).Where(n => n != Missing).ToHashSet();

    [Fact]
    public void The_original_needs_GLIBCXX_3_4_32_for_exactly_one_symbol()
    {
        var image = ElfImage.Parse(OriginalBytes());
        var aux = image.VersionNeeds().Single(n => n.File == "libstdc++.so.6").Versions.Single(v => v.Name == Missing);
        var users = Enumerable.Range(0, image.SymbolCount).Where(i => image.SymbolVersionIndex(i) == aux.Index).ToList();
        Assert.Equal([Hook], users.Select(image.SymbolName));
        Assert.False(aux.IsWeak);
    }

    [Fact]
    public void The_fix_sets_the_weak_flag_and_retargets_only_the_hook()
    {
        var before = ElfImage.Parse(OriginalBytes());
        var after = ElfImage.Parse(OriginalBytes());
        var report = GlibcxxCompat.Apply(after, Debian12(before));

        Assert.Equal(FixOutcome.Patched, report.Outcome);
        Assert.Equal([Missing], report.MissingVersions);

        // Version needs: same entries in the same order; only GLIBCXX_3.4.32 gained VER_FLG_WEAK.
        var needsBefore = before.VersionNeeds().SelectMany(n => n.Versions.Select(v => (n.File, v))).ToList();
        var needsAfter = after.VersionNeeds().SelectMany(n => n.Versions.Select(v => (n.File, v))).ToList();
        Assert.Equal(needsBefore.Count, needsAfter.Count);
        foreach (var ((fileB, b), (fileA, a)) in needsBefore.Zip(needsAfter))
        {
            Assert.Equal((fileB, b.Name, b.Index), (fileA, a.Name, a.Index));
            Assert.Equal(b.Name == Missing ? b.Flags | ElfImage.VerFlagWeak : b.Flags, (int)a.Flags);
        }

        // Symbols: only the hook changed, to an unversioned getpid.
        int changed = 0;
        for (int i = 0; i < before.SymbolCount; i++)
        {
            if (before.SymbolName(i) == Hook)
            {
                Assert.Equal("getpid", after.SymbolName(i));
                Assert.Equal(ElfImage.VersionIndexGlobal, after.SymbolVersionIndex(i));
                changed++;
                continue;
            }
            Assert.Equal(before.SymbolName(i), after.SymbolName(i));
            Assert.Equal(before.SymbolVersionIndex(i), after.SymbolVersionIndex(i));
        }
        Assert.Equal(1, changed);

        // Bytes: the flag (2), the .gnu.version entry (2) and the hook's name (at most its length) — nothing else.
        var diff = before.Bytes.Zip(after.Bytes).Count(p => p.First != p.Second);
        Assert.Equal(before.Bytes.Length, after.Bytes.Length);
        Assert.InRange(diff, 3, 2 + 2 + Hook.Length);
    }

    [Fact]
    public void Running_the_fix_twice_changes_nothing_the_second_time()
    {
        var image = ElfImage.Parse(OriginalBytes());
        var provided = Debian12(image);
        GlibcxxCompat.Apply(image, provided);
        var once = (byte[])image.Bytes.Clone();
        var second = GlibcxxCompat.Apply(image, provided);
        Assert.Equal(FixOutcome.AlreadyPatched, second.Outcome);
        Assert.Empty(second.Edits);
        Assert.Equal(once, image.Bytes);
    }

    [Fact]
    public void A_new_enough_libstdcxx_leaves_the_file_untouched()
    {
        var image = ElfImage.Parse(OriginalBytes());
        var all = image.VersionNeeds().SelectMany(n => n.Versions).Select(v => v.Name).ToHashSet();
        var original = (byte[])image.Bytes.Clone();
        Assert.Equal(FixOutcome.NotNeeded, GlibcxxCompat.Apply(image, all).Outcome);
        Assert.Equal(original, image.Bytes);
    }

    [Fact]
    public void A_version_needed_by_real_functions_is_refused_with_a_clear_message()
    {
        var image = ElfImage.Parse(OriginalBytes());
        var older = Debian12(image).Where(v => v != "GLIBCXX_3.4.30").ToHashSet(); // like Debian 11
        var original = (byte[])image.Bytes.Clone();
        var e = Assert.Throws<NativeFixException>(() => GlibcxxCompat.Apply(image, older));
        Assert.Contains("GLIBCXX_3.4.30", e.Message);
        Assert.Contains("newer libstdc++", e.Message);
        Assert.Equal(original, image.Bytes);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Patching_a_file_replaces_it_by_rename_and_never_writes_through_a_hard_link()
    {
        if (!OperatingSystem.IsLinux()) return; // hard links and file modes as on the machines that need the fix
        var dir = Directory.CreateTempSubdirectory("nativefix-").FullName;
        try
        {
            var cacheCopy = Path.Combine(dir, "cache.so");
            var output = Path.Combine(dir, GlibcxxCompat.LibraryFileName);
            File.Copy(OriginalLibrary(), cacheCopy);
            File.SetUnixFileMode(cacheCopy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Assert.Equal(0, Link(cacheCopy, output)); // the output file is a hard link, as MSBuild may make it

            var report = GlibcxxCompat.ApplyToFile(output, Debian12(ElfImage.Load(output)));

            Assert.Equal(FixOutcome.Patched, report.Outcome);
            Assert.True(GlibcxxCompat.IsPatched(output));
            Assert.False(GlibcxxCompat.IsPatched(cacheCopy));
            Assert.Equal(OriginalBytes(), File.ReadAllBytes(cacheCopy));
            Assert.Equal(File.GetUnixFileMode(cacheCopy), File.GetUnixFileMode(output));
            Assert.Equal([cacheCopy, output], Directory.GetFiles(dir).Order());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Non_elf_input_is_rejected_by_name()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfImage.Parse("not an elf file at all, just text....................................."u8.ToArray(), "notes.txt"));
        Assert.Contains("notes.txt is not an ELF file", e.Message);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int Link(string existing, string created);
}
