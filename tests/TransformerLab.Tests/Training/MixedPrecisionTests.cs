using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Training;

/// <summary>precision=bf16: matrix products in bfloat16, everything else — weights, gradients, optimiser, loss — in float32.</summary>
public sealed class MixedPrecisionTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-bf16-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    /// <summary>This machine has no native bf16 (the tests that train or time in bf16 then check only what applies here).</summary>
    static bool NoNativeBf16 => MixedPrecision.Unsupported(Precision.Bf16, torch.CPU) is not null;

    static TrainingSettings Tiny(Precision precision) =>
        TinySettings.For().WithLoop(l => l with { MaxSteps = 30, EvalEvery = 15 }) with { Threads = 1, Precision = precision };

    [Fact]
    public void A_bf16_forward_pass_stays_within_two_percent_of_fp32_and_returns_float32()
    {
        if (NoNativeBf16) return; // emulated bf16 computes the same, but this machine cannot train in it: see the last test
        var config = Reference.SmallConfig() with { DModel = 64, Heads = 4, DFF = 256 };
        using var model = Reference.NewModel(config, seed: 3);
        TorchRuntime.Seed(4);
        var source = Reference.Tokens(4, 9, config.SourceVocabulary);
        var target = Reference.Tokens(4, 7, config.TargetVocabulary);
        using var fp32 = model.forward(source, target);
        Tensor bf16;
        using (MixedPrecision.Use(Precision.Bf16)) bf16 = model.forward(source, target);
        Assert.Equal(ScalarType.Float32, bf16.dtype); // a layer's contract is float32 in, float32 out in both precisions
        var relative = ((bf16 - fp32).norm() / fp32.norm()).item<float>();
        // bfloat16 keeps 8 significant bits (relative rounding ≤ 2⁻⁸ ≈ 0.4 % per product); a few layers of them stay well under 2 %
        Assert.InRange(relative, 1e-5, 0.02); // above 0: the products really ran in bfloat16
        Assert.Null(MixedPrecision.ComputeType); // the scope ended: float32 again
        using var again = model.forward(source, target);
        Assert.True(Reference.Identical(fp32, again));
    }

    [Fact]
    public void Scopes_nest_and_restore_the_outer_precision()
    {
        using (MixedPrecision.Use(Precision.Bf16))
        {
            using (MixedPrecision.Use(Precision.Fp32)) Assert.Null(MixedPrecision.ComputeType);
            Assert.Equal(ScalarType.BFloat16, MixedPrecision.ComputeType);
        }
        Assert.Null(MixedPrecision.ComputeType);
    }

    [Fact]
    public void Bf16_training_is_deterministic_keeps_float32_weights_and_its_checkpoint_decodes_in_either_precision()
    {
        if (NoNativeBf16) return; // a CPU without native bf16 refuses the run (Trainer), as the last test shows
        var s = Tiny(Precision.Bf16);
        var data = s.LoadData(Workspace.Root(AppContext.BaseDirectory));
        var a = Path.Combine(folder, "a");
        var b = Path.Combine(folder, "b");
        Assert.Equal(RunStatus.Done, new Trainer(s, data, a).Run().Status);
        Assert.Equal(RunStatus.Done, new Trainer(s, data, b).Run().Status);
        string[] Losses(string run) => File.ReadAllLines(Path.Combine(run, "steps.csv")).Select(l => string.Join(",", l.Split(',')[..5])).ToArray();
        Assert.Equal(Losses(a), Losses(b));
        Assert.Equal(File.ReadAllLines(Path.Combine(a, "dev.csv")), File.ReadAllLines(Path.Combine(b, "dev.csv")));

        var checkpoint = Checkpoint.Load(Path.Combine(a, "last.ckpt"));
        Assert.Equal(Precision.Bf16, checkpoint.Settings.Precision); // the setting round-trips through the checkpoint
        using var model = checkpoint.RestoreModel(torch.CPU);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype)); // master weights stay float32
        var items = EvaluationItem.Group(data.Test);
        var (inFp32, _) = Evaluator.Decode(model, items, data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU);
        TransformerLab.Metrics.SequenceMetrics inBf16;
        using (MixedPrecision.Use(Precision.Bf16))
            (inBf16, _) = Evaluator.Decode(model, items, data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU);
        Assert.InRange(inFp32.TokenAccuracy, 0, 1);
        Assert.InRange(Math.Abs(inFp32.SequenceErrorRate - inBf16.SequenceErrorRate), 0, 0.1); // the same model, decoded both ways

        // an fp32-trained checkpoint decodes in bf16 too
        var c = Path.Combine(folder, "c");
        new Trainer(Tiny(Precision.Fp32), data, c).Run();
        using var fp32Model = Checkpoint.Load(Path.Combine(c, "last.ckpt")).RestoreModel(torch.CPU);
        using (MixedPrecision.Use(Precision.Bf16))
            Assert.Equal(items.Count, Evaluator.Decode(fp32Model, items, data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU).Predictions.Count);
    }

    [Fact]
    public void Bf16_on_a_cpu_without_native_bfloat16_is_refused_with_the_reason()
    {
        Assert.Null(MixedPrecision.Unsupported(Precision.Fp32, torch.CPU, new HashSet<string>()));
        Assert.Null(MixedPrecision.Unsupported(Precision.Bf16, torch.CPU, new HashSet<string> { "avx512f", "avx512_bf16" }));
        var refused = MixedPrecision.Unsupported(Precision.Bf16, torch.CPU, new HashSet<string> { "avx2", "fma" });
        Assert.Contains("native bfloat16", refused);
        Assert.Contains("precision=fp32", refused);
        var (exit, _, error) = Foundation.CliTests.Run("train", "--task", "copy", "--set", "precision=bf17");
        Assert.Equal(Cli.ResearchCli.Usage, exit);
        Assert.Contains("bf16", error);
    }
}
