using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using TransformerLab.Cli;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>
/// What keeps runs fast on a shared machine: LibTorch's OpenMP threads sleep between regions (set in the C environment
/// before LibTorch loads, and passed to the processes we start), small decoding batches run on one thread, and doctor
/// says what the machine is. Speed itself is measured by <c>research bench --section contention</c>, not here.
/// </summary>
public sealed class ContentionTests
{
    [ModuleInitializer]
    internal static void BeforeAnyTorch() => OpenMpWaitPolicy.Apply(); // this test host loads TorchSharp from many places

    [DllImport("libc")] static extern IntPtr getenv(string name);

    [Fact]
    public void The_wait_policy_is_in_the_C_environment_libgomp_reads_and_in_what_child_processes_inherit()
    {
        if (OperatingSystem.IsWindows()) return;
        var expected = Environment.GetEnvironmentVariable(OpenMpWaitPolicy.Variable);
        Assert.NotNull(expected); // PASSIVE by default, or whatever the environment chose
        Assert.Equal(expected, Marshal.PtrToStringUTF8(getenv(OpenMpWaitPolicy.Variable)));
        var info = new ProcessStartInfo("sh", ["-c", "printf %s \"$OMP_WAIT_POLICY\""]) { RedirectStandardOutput = true };
        using var child = Process.Start(info)!;
        Assert.Equal(expected, child.StandardOutput.ReadToEnd());
        child.WaitForExit();
    }

    [Fact]
    public void Small_decoding_batches_run_on_one_thread_unless_a_count_is_pinned()
    {
        TorchRuntime.EnsureLoaded();
        var before = torch.get_num_threads();
        using (IntraOpThreads.Use(2))
        {
            Assert.Null(IntraOpThreads.ForDecoding(1, 128)); // pinned: a benchmark measures what it asked for
            Assert.Equal(2, torch.get_num_threads());
        }
        using (IntraOpThreads.Use(2))
        using (IntraOpThreads.Use(2)) { }
        Assert.Equal(before, torch.get_num_threads());
        if (before > 1)
        {
            // the measured crossover: 128 rows at d_model 256 (and so 256 at d_model 128) on one thread, one more row on all
            using (IntraOpThreads.ForDecoding(128, 256)) Assert.Equal(1, torch.get_num_threads());
            using (IntraOpThreads.ForDecoding(256, 128)) Assert.Equal(1, torch.get_num_threads());
            Assert.Null(IntraOpThreads.ForDecoding(129, 256));
            Assert.Null(IntraOpThreads.ForDecoding(IntraOpThreads.OneThreadWork + 1, 1));
        }
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public void The_machine_profile_says_what_the_extensions_mean_here()
    {
        var avx2Only = new MachineProfile("AMD EPYC", "AuthenticAMD", 2, new HashSet<string> { "avx", "avx2" }, 0.1, 0.1, 0.1);
        Assert.Contains("no avx512f", avx2Only.VectorExtensions);
        Assert.Contains(avx2Only.Consequences(), c => c.StartsWith("precision=bf16 is refused"));
        Assert.Contains(avx2Only.Consequences(), c => c.Contains("does nothing here"));
        var zen4 = avx2Only with { Flags = new HashSet<string> { "avx2", "avx512f", "avx512_bf16" }, Load1 = 1.5 };
        Assert.Contains(zen4.Consequences(), c => c.StartsWith("precision=bf16 runs"));
        Assert.Contains(zen4.Consequences(), c => c.Contains("can speed up fp32"));
        Assert.True(zen4.Busy);
        Assert.False(avx2Only.Busy);
    }

    [Fact]
    public void Doctor_shows_the_load_the_cpu_extensions_and_the_wait_policy()
    {
        var (exit, output, _) = CliTests.Run("doctor");
        Assert.Equal(ResearchCli.Ok, exit);
        Assert.Contains("Load average", output);
        Assert.Contains("Vector extensions", output);
        Assert.Contains("avx2", output);
        Assert.Contains("OpenMP wait policy", output);
    }

    [Fact]
    public void The_pytorch_peer_ships_with_the_library_and_says_why_when_it_cannot_run()
    {
        Assert.True(File.Exists(TransformerLab.Benchmarks.PyTorchPeer.Script), TransformerLab.Benchmarks.PyTorchPeer.Script);
        Assert.Null(TransformerLab.Benchmarks.PyTorchPeer.TryStart("/nonexistent/python3", out var reason));
        Assert.Contains("RESEARCH_PYTORCH_PYTHON", reason);
        // Debian's python3: with python3-torch the peer answers a timing; without it, it says how to install it
        if (!File.Exists(TransformerLab.Benchmarks.PyTorchPeer.Python)) return;
        using var peer = TransformerLab.Benchmarks.PyTorchPeer.TryStart(TransformerLab.Benchmarks.PyTorchPeer.Python, out reason);
        if (peer is null) Assert.Contains("apt-get install python3-torch", reason);
        else
        {
            Assert.StartsWith("PyTorch ", peer.Version);
            Assert.True(peer.SecondsPerCall("mha", 8, 1, 2) > 0);
            Assert.True(peer.SecondsPerCall("greedy", 4, 1, 1) > 0);
        }
    }
}
