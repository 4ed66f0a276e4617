using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Benchmarks;
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

    [Fact]
    public void Bench_refuses_a_negative_thread_count()
    {
        var (exit, _, error) = CliTests.Run("bench", "--quick", "--threads", "-1");
        Assert.Equal(2, exit);
        Assert.Contains("--threads", error);
    }
}
