using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TransformerLab.Decoding;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

/// <summary>The two workloads the contention bench times: a training step (d_model 256, 3 + 3 layers, batch 32 × 32) and greedy decoding of 16 tokens at batch 1.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter))] // by name in bench reports (numbers still read)
public enum ContentionWorkload { TrainingStep, GreedyBatch1 }

/// <summary>How the bench starts a copy of itself to run one workload in its own process (its own LibTorch and OpenMP threads).</summary>
/// <param name="FileName">the program (dotnet).</param>
/// <param name="Arguments">the arguments up to the verb, e.g. <c>[research.dll, "bench"]</c>.</param>
public sealed record WorkloadHost(string FileName, IReadOnlyList<string> Arguments);

/// <summary>One workload's time per call under one OpenMP wait policy, thread count (0: the workspace's own choice) and condition.</summary>
/// <param name="Policy">the OMP_WAIT_POLICY the process ran with ("PASSIVE", or "libgomp default": spin, then sleep).</param>
/// <param name="Condition">alone; beside a busy core (a spinning thread in the bench's own process); beside a second copy of the same workload.</param>
public sealed record ContentionPoint(ContentionWorkload Workload, string Policy, int Threads, string Condition, double MillisecondsPerCall)
{
    public const string Alone = "alone", BusyCore = "beside a busy core", SecondCopy = "beside a second copy";
    public const string Passive = "PASSIVE", LibgompDefault = "libgomp default";
}

/// <summary>
/// Section "under contention" of <c>research bench</c> (issue 35): each workload in a child process, alone, beside one
/// busy core, and beside a second copy of itself, for each OpenMP wait policy and for the default and one intra-op thread.
/// Children start together and measure after their own warm-up, so the pairs overlap in their measured windows.
/// </summary>
public sealed class ContentionBench(WorkloadHost host, bool quick, Action<string>? log = null)
{
    double Seconds => quick ? 1.0 : 3.0;

    public IReadOnlyList<ContentionPoint> Run()
    {
        var points = new List<ContentionPoint>();
        var cores = Environment.ProcessorCount;
        string[] policies = quick ? [CurrentPolicy] : [ContentionPoint.Passive, ContentionPoint.LibgompDefault];
        foreach (var workload in Enum.GetValues<ContentionWorkload>())
            foreach (var policy in policies)
                foreach (var threads in ThreadCounts(workload, cores))
                    foreach (var condition in quick ? [ContentionPoint.Alone, ContentionPoint.BusyCore]
                                 : new[] { ContentionPoint.Alone, ContentionPoint.BusyCore, ContentionPoint.SecondCopy })
                    {
                        var ms = Measure(workload, policy, threads, condition) * 1e3;
                        points.Add(new ContentionPoint(workload, policy, threads, condition, ms));
                        log?.Invoke($"under contention: {Describe(workload)}, {policy}, {DescribeThreads(threads)}, {condition} = {ms:G4} ms per call");
                    }
        return points;
    }

    /// <summary>
    /// The thread counts a workload is measured with: what the workspace chooses by itself (0: decoding a small batch on
    /// one thread, <see cref="IntraOpThreads"/>; training on every core) and, outside quick mode, every core and one pinned.
    /// </summary>
    IEnumerable<int> ThreadCounts(ContentionWorkload workload, int cores)
    {
        yield return Chosen(workload, cores);
        if (quick || cores == 1) yield break;
        if (workload == ContentionWorkload.GreedyBatch1) yield return cores; // pinned, to show what the choice avoids
        yield return 1;
    }

    /// <summary>How the workspace runs the workload by default: 0 (its own choice) for decoding, every core for training.</summary>
    public static int Chosen(ContentionWorkload workload, int cores) => workload == ContentionWorkload.GreedyBatch1 ? 0 : cores;

    public static string DescribeThreads(int threads) => threads switch
    {
        0 => "threads chosen for the work",
        1 => "1 thread",
        _ => $"{threads} threads",
    };

    /// <summary>The policy this process runs with, in the points' terms.</summary>
    public static string CurrentPolicy =>
        string.Equals(Environment.GetEnvironmentVariable(OpenMpWaitPolicy.Variable), "PASSIVE", StringComparison.OrdinalIgnoreCase)
            ? ContentionPoint.Passive : ContentionPoint.LibgompDefault;

    public static string Describe(ContentionWorkload workload) => workload switch
    {
        ContentionWorkload.TrainingStep => "training step (d_model 256, 3+3 layers, batch 32×32)",
        _ => "greedy decoding (batch 1, 16 tokens)",
    };

    double Measure(ContentionWorkload workload, string policy, int threads, string condition)
    {
        using var stop = new CancellationTokenSource();
        Thread? spinner = null;
        if (condition == ContentionPoint.BusyCore)
        {
            spinner = new Thread(() => { while (!stop.IsCancellationRequested) Thread.SpinWait(1000); }) { IsBackground = true };
            spinner.Start();
        }
        try
        {
            var children = Enumerable.Range(0, condition == ContentionPoint.SecondCopy ? 2 : 1).Select(_ => Start(workload, policy, threads)).ToList();
            return children.Select(Result).Average();
        }
        finally
        {
            stop.Cancel();
            spinner?.Join();
        }
    }

    Process Start(ContentionWorkload workload, string policy, int threads)
    {
        var info = new ProcessStartInfo(host.FileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in host.Arguments) info.ArgumentList.Add(a);
        foreach (var a in new[] { "--workload", Workloads.Name(workload), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                     "--seconds", Seconds.ToString(CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        // "" is set but empty: libgomp ignores it and keeps its default, and OpenMpWaitPolicy leaves a set variable alone
        info.Environment[OpenMpWaitPolicy.Variable] = policy == ContentionPoint.Passive ? "PASSIVE" : "";
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {host.FileName}");
    }

    static double Result(Process child)
    {
        using (child)
        {
            var output = child.StandardOutput.ReadToEnd();
            var error = child.StandardError.ReadToEnd();
            child.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Workloads.ResultPrefix, StringComparison.Ordinal));
            if (child.ExitCode != 0 || line is null)
                throw new InvalidOperationException($"a contention workload failed (exit {child.ExitCode}): {error.Trim()} {output.Trim()}");
            return double.Parse(line[Workloads.ResultPrefix.Length..], CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>What a workload child process runs: <c>research bench --workload NAME</c>.</summary>
public static class Workloads
{
    public const string ResultPrefix = "seconds_per_call=";

    public static string Name(ContentionWorkload workload) => workload switch
    {
        ContentionWorkload.TrainingStep => "training-step",
        _ => "greedy-batch1",
    };

    public static ContentionWorkload Parse(string name) =>
        Enum.GetValues<ContentionWorkload>().FirstOrDefault(w => Name(w) == name, (ContentionWorkload)(-1)) is var w && Enum.IsDefined(w) ? w
            : throw new ArgumentException($"unknown workload '{name}'; known: {string.Join(", ", Enum.GetValues<ContentionWorkload>().Select(Name))}.");

    /// <summary>Runs the workload for about a second of warm-up, then <paramref name="seconds"/> of calls; returns the seconds per call.</summary>
    public static double SecondsPerCall(ContentionWorkload workload, int threads, double seconds, Device device)
    {
        TorchRuntime.EnsureLoaded();
        using var pinned = threads > 0 ? IntraOpThreads.Use(threads) : null; // the count asked for, not decoding's own choice
        TorchRuntime.Seed(1);
        Action call;
        IDisposable owned;
        if (workload == ContentionWorkload.TrainingStep)
        {
            var config = new TransformerConfig { SourceVocabulary = 64, TargetVocabulary = 64, DModel = 256, Heads = 4, DFF = 1024, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1, Norm = NormPlacement.Post };
            var model = new EncoderDecoder(config).to(device);
            var optimiser = torch.optim.AdamW(model.parameters(), lr: 1e-4);
            var source = torch.randint(4, 64, [32, 32], device: device);
            var target = torch.randint(4, 64, [32, 33], device: device);
            var (input, output) = (target[.., ..^1], target[.., 1..]);
            call = () =>
            {
                using var scope = NewDisposeScope();
                optimiser.zero_grad();
                var scores = model.forward(source, input);
                nn.functional.cross_entropy(scores.reshape(-1, scores.shape[^1]), output.reshape(-1)).backward();
                optimiser.step();
            };
            owned = model;
        }
        else
        {
            var config = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 };
            var model = new EncoderDecoder(config).to(device);
            model.eval();
            using (torch.no_grad()) model.state_dict()["output.projection.bias"][Data.Vocabulary.Eos] = -1e4f; // decode all 16 tokens
            var source = torch.randint(4, 32, [1, 8], device: device);
            call = () => { using var scope = NewDisposeScope(); using var _ = torch.no_grad(); Greedy.Decode(model, source, 16); };
            owned = model;
        }
        using (owned)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < 1.0) call(); // warm-up: kernels chosen, caches and thread pools up
            int calls = 0;
            clock.Restart();
            while (clock.Elapsed.TotalSeconds < seconds || calls < 3) { call(); calls++; }
            return clock.Elapsed.TotalSeconds / calls;
        }
    }
}
