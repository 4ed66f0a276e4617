using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Cli;
using TransformerLab.Benchmarks;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Foundation;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Benchmarks;

/// <summary>The benchmark's baselines compute what they stand for; the timing itself is `research bench`'s, not a test's.</summary>
public class BenchTests
{
    [Fact]
    public void The_minimal_kernel_attention_computes_our_multi_head_attention()
    {
        TorchRuntime.Seed(3);
        using var scope = NewDisposeScope();
        var ours = new MultiHeadAttention(32, 4);
        ours.eval();
        var x = torch.randn(2, 7, 32);
        var (wq, wk, wv, wo) = ours.Projections;
        Reference.AssertClose(ours.forward(x, x, x), Bench.MinimalAttention(x, wq, wk, wv, wo, 4));
    }

    [Fact]
    public void The_built_in_baseline_has_our_configuration()
    {
        var config = new TransformerConfig { SourceVocabulary = 20, TargetVocabulary = 17, DModel = 32, Heads = 4, DFF = 64, EncoderLayers = 2, DecoderLayers = 3, Norm = NormPlacement.Post };
        using var ours = new EncoderDecoder(config);
        using var theirs = new BuiltinEncoderDecoder(config);
        Assert.Equal(ours.parameters().Sum(p => p.numel()), theirs.parameters().Sum(p => p.numel()));
        using var scope = NewDisposeScope();
        theirs.eval();
        var logits = theirs.forward(torch.randint(4, 20, [3, 6]), torch.randint(4, 17, [3, 5]));
        Assert.Equal(new long[] { 3, 5, 17 }, logits.shape);
    }

    [Fact]
    public void Interleaved_timing_runs_every_candidate_in_turns_after_the_warm_up()
    {
        var order = new List<char>();
        var measured = Latency.MeasureInterleaved([() => order.Add('a'), () => order.Add('b')], warmup: 1, repeats: 2);
        Assert.Equal("ababab", new string(order.ToArray()));
        Assert.All(measured, m => Assert.Equal(2, m.Seconds.Count));
    }

    [Fact]
    public void Steady_state_timing_fills_each_turn_with_calls_and_reports_the_time_per_call()
    {
        var order = new List<char>();
        // turns sized for 0.2 s from the first call: only a scheduler delay of that length could make a call of nanoseconds fill
        // a turn alone, so the test holds on a busy machine (at 2 ms it did not, with two sweeps beside it)
        const double turn = 0.2;
        var measured = Latency.MeasureInterleaved([() => order.Add('a'), () => order.Add('b')], warmup: 1, repeats: 2, minimumSeconds: turn);
        // turns still alternate, each a run of calls of one candidate: a…a b…b (warm-up) a…a b…b a…a b…b
        var runs = new string(order.ToArray()).Aggregate(new List<(char Name, int Calls)>(), (list, c) =>
        {
            if (list.Count > 0 && list[^1].Name == c) list[^1] = (c, list[^1].Calls + 1); else list.Add((c, 1));
            return list;
        });
        Assert.Equal("ababab", new string(runs.Select(r => r.Name).ToArray()));
        Assert.All(runs, r => Assert.True(r.Calls > 1, "a call of microseconds is repeated to fill the turn"));
        Assert.All(measured, m => Assert.All(m.Seconds, s => Assert.True(s < turn / 2, "the figure is per call, not per turn")));
        Assert.Throws<ArgumentException>(() => Latency.MeasureInterleaved([() => { }], warmup: 0, repeats: 1, minimumSeconds: 0.01));
    }

    [Fact]
    public void The_pinned_models_decode_exactly_the_length_their_figures_name()
    {
        var transformer = Reference.SmallConfig(NormPlacement.Pre);
        TorchRuntime.Seed(3);
        using var at = new EncoderDecoder(transformer);
        using var nat = new NonAutoregressiveTransformer(new NonAutoregressiveConfig
            { Transformer = transformer with { CausalMask = false }, Length = LengthPrediction.Absolute, MaxTargetLength = 12 });
        using var scope = NewDisposeScope();
        var source = torch.randint(4, transformer.SourceVocabulary, [3, 5]);
        foreach (var length in new[] { 3, 11 })
        {
            Bench.PinLengths(at, nat, length);
            Assert.All(Greedy.Decode(at, source, length), h => Assert.Equal(length, h.Tokens.Length));
            Assert.All(NonAutoregressiveDecoding.Decode(nat, source).Hypotheses, h => Assert.Equal(length, h.Tokens.Length));
        }
    }

    [Fact]
    public void A_ratio_carries_its_spread_and_a_busy_machine_is_named()
    {
        var steady = new BenchRatio("r", 2.0, "", null, 1.9, 2.2);
        var unsteady = new BenchRatio("r", 2.0, "", null, 0.2, 2.2);
        Assert.False(steady.Unsteady);
        Assert.True(unsteady.Unsteady);
        Assert.False(new BenchRatio("r", 2.0, "", null).Unsteady); // no repeats: no spread to judge
        Assert.True(new MachineLoad(1.2, 2.0, 2).Busy);            // more than a quarter of the cores busy before the start
        Assert.False(new MachineLoad(0.1, 2.0, 2).Busy);           // the bench's own load at the end does not count
        if (OperatingSystem.IsLinux()) Assert.False(double.IsNaN(MachineLoad.Now()));
    }

    /// <summary>The contention section's children run each workload and report a time; the report carries the points, the CPU's extensions and the wait policy. (What the times are is the bench's business, not a test's.)</summary>
    [Fact]
    public void The_contention_section_runs_its_workloads_in_child_processes_and_records_them()
    {
        var output = Path.Combine(Path.GetTempPath(), "tlab-contention-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            var (exit, stdout, error) = CliTests.Run("bench", "--quick", "--section", "contention", "--out", output);
            Assert.True(exit == 0, stdout + error);
            var report = BenchReport.Load(output)!;
            Assert.NotNull(report.Contention);
            Assert.Equal(4, report.Contention!.Count); // two workloads, alone and beside a busy core
            Assert.All(report.Contention, p => Assert.True(p.MillisecondsPerCall > 0 && double.IsFinite(p.MillisecondsPerCall)));
            Assert.Contains(report.Ratios, r => r.Name.Contains("beside a busy core / alone"));
            Assert.Contains("avx2", report.CpuExtensions);
            Assert.False(string.IsNullOrEmpty(report.WaitPolicy));
            Assert.DoesNotContain(report.Figures, f => f.Section != "under contention");
        }
        finally { File.Delete(output); }
        Assert.Equal(ResearchCli.Usage, CliTests.Run("bench", "--section", "nonsense").Exit);
    }

    [Fact]
    public void Bench_refuses_a_negative_thread_count()
    {
        var (exit, _, error) = CliTests.Run("bench", "--quick", "--threads", "-1");
        Assert.Equal(2, exit);
        Assert.Contains("--threads", error);
    }
}
