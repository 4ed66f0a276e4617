using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TransformerLab.Runtime;

/// <summary>
/// How LibTorch's OpenMP threads wait between parallel regions. LibTorch ships GNU libgomp, whose default lets an idle
/// worker spin for about 300,000 iterations before it sleeps. On an idle machine that saves a wake-up per region; on a
/// shared one — a browser, an IDE, a second run — the spinning workers take the cores the working thread needs, and
/// each region waits for a worker that is not running: measured on 2 cores, <c>research bench --quick</c> went from
/// 51 s to 135 s beside one busy process and past 10 minutes beside a second bench (issue 35; <c>research bench</c>'s
/// section "under contention" measures it). <c>OMP_WAIT_POLICY=PASSIVE</c> makes the workers sleep at once.
/// <para>
/// libgomp reads the variable once, when it is loaded with LibTorch, and from the process's C environment — which
/// .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not change on Unix. So this sets it with
/// libc's <c>setenv</c> as soon as the library is loaded (a module initializer runs before any of its code touches
/// TorchSharp), and in .NET's copy too, so that the processes we start (sweep runs, the notebook kernel) inherit it.
/// A value the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT) is left as it is.
/// </para>
/// </summary>
public static class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";
    public const string Default = "PASSIVE";

    /// <summary>What this process runs with, for <c>research doctor</c> and every benchmark report: "PASSIVE (set by the workspace)", "ACTIVE (set in the environment)", …</summary>
    public static string Description { get; private set; } = "libgomp's default (spin, then sleep)";

    static bool applied;

    [ModuleInitializer] // in a library on purpose: hosts that only #r it (notebooks, scripts) get the policy before LibTorch starts
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "see the comment above")]
    internal static void Initialize() => Apply();

    /// <summary>Sets <see cref="Variable"/> to <see cref="Default"/> unless the environment already chose a policy. Idempotent.</summary>
    public static void Apply()
    {
        if (applied) return;
        applied = true;
        var given = Environment.GetEnvironmentVariable(Variable);
        var spin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT");
        if (given is not null || spin is not null)
        {
            Description = given is not null ? $"{given} (set in the environment)" : $"GOMP_SPINCOUNT={spin} (set in the environment)";
            return;
        }
        if (OperatingSystem.IsWindows()) return; // LibTorch on Windows uses Intel's OpenMP; its KMP_BLOCKTIME is another story
        try { _ = setenv(Variable, Default, 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return; }
        Environment.SetEnvironmentVariable(Variable, Default);
        Description = $"{Default} (set by the workspace; OMP_WAIT_POLICY=ACTIVE in the environment restores spinning)";
    }

    [DllImport("libc", SetLastError = true)]
    static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
