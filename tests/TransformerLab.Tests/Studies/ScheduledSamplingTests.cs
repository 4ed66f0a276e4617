using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Model;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Studies;

public sealed class ScheduledSamplingTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-ss-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    [Theory]
    [InlineData(TeacherForcingDecay.Linear, 1.0, 1e-3, 0.2, 0, 1.0)]
    [InlineData(TeacherForcingDecay.Linear, 1.0, 1e-3, 0.2, 100, 0.9)]
    [InlineData(TeacherForcingDecay.Linear, 1.0, 1e-3, 0.2, 500, 0.5)]
    [InlineData(TeacherForcingDecay.Linear, 1.0, 1e-3, 0.2, 900, 0.2)]       // k − c·i = 0.1, floored at ε_min
    [InlineData(TeacherForcingDecay.Exponential, 0.99, 0, 0, 10, 0.9043820750088044)] // 0.99^10
    [InlineData(TeacherForcingDecay.InverseSigmoid, 10, 0, 0, 0, 0.909090909090909)] // 10 / (10 + e^0)
    [InlineData(TeacherForcingDecay.InverseSigmoid, 10, 0, 0, 23, 0.5006462728886073)] // 10 / (10 + e^2.3)
    [InlineData(TeacherForcingDecay.InverseSigmoid, 10, 0, 0, 100, 4.5379327579637e-4)] // 10 / (10 + e^10)
    public void Each_schedule_gives_the_formulas_epsilon(TeacherForcingDecay decay, double k, double c, double minimum, long step, double expected) =>
        Assert.Equal(expected, new TeacherForcingSchedule(decay, k, c, minimum).Epsilon(step), 12);

    [Fact]
    public void The_schedule_keys_are_the_names_the_docs_use()
    {
        var s = Settings.With(new TrainingSettings(), [new("sampling_k", "3"), new("sampling_c", "0.5"), new("sampling_decay", "linear")]);
        Assert.Equal((3.0, 0.5, TeacherForcingDecay.Linear), (s.DecoderInput.SamplingK, s.DecoderInput.SamplingC, s.DecoderInput.SamplingDecay));
        var old = Settings.FromJson("""{"samplingk": 4, "samplingc": 0.25}""", new TrainingSettings()); // as briefly written
        Assert.Equal((4.0, 0.25), (old.DecoderInput.SamplingK, old.DecoderInput.SamplingC));
    }

    [Fact]
    public void Bad_schedule_parameters_are_named()
    {
        var e = Assert.Throws<SettingsException>(() => (TrainingSettings.For(TaskKind.Copy).WithDecoderInput(d => d with { Kind = DecoderInputKind.ScheduledSampling, SamplingDecay = TeacherForcingDecay.Exponential, SamplingK = 1.5 })).Validate());
        Assert.Contains("sampling_k", e.Message);
    }

    static Tensor Gold() => torch.tensor(new long[] { 1, 5, 6, 7, 1, 8, 9, 0 }, [2, 4]);      // BOS y…, second row padded
    static Tensor Predicted() => torch.tensor(new long[] { 10, 11, 12, 13, 14, 15, 16, 17 }, [2, 4]);

    [Fact]
    public void With_epsilon_one_the_decoder_reads_exactly_the_gold_prefix()
    {
        TorchRuntime.Seed(1);
        Assert.True(Reference.Identical(Gold(), ScheduledSampling.Mix(Gold(), Predicted(), 1.0)));
    }

    [Fact]
    public void With_epsilon_zero_every_position_reads_the_previous_positions_prediction_except_bos_and_padding()
    {
        TorchRuntime.Seed(1);
        var mixed = ScheduledSampling.Mix(Gold(), Predicted(), 0.0);
        Assert.Equal(new long[] { 1, 10, 11, 12, 1, 14, 15, 0 }, mixed.data<long>().ToArray());
    }

    [Fact]
    public void Pass_one_carries_no_gradient()
    {
        using var model = Reference.NewModel(Reference.SmallConfig(NormPlacement.Pre), seed: 2);
        model.train();
        TorchRuntime.Seed(3);
        var source = Reference.Tokens(2, 5, 13, first: 4);
        var encoded = model.Encode(source);
        Assert.True(encoded.Memory.requires_grad);
        var logits = ScheduledSampling.FirstPass(model, Gold(), encoded);
        Assert.False(logits.requires_grad);
        Assert.True(torch.is_grad_enabled()); // pass 2 still records its graph
    }

    [Fact]
    public void Training_with_epsilon_one_equals_teacher_forcing_parameter_for_parameter()
    {
        // Dropout 0, so the only random draws are the mixing coins, which ε = 1 ignores.
        var tf = TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 32, Heads = 2, DFF = 64, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0 })
            .WithTask(t => t with { Symbols = 6, MinLength = 2, MaxLength = 5, TrainSize = 200, DevSize = 20, TestSize = 20 })
            .WithLoop(l => l with { BatchSize = 16, MaxSteps = 15, EvalEvery = 15, LogEvery = 5 })
            .WithOptimiser(o => o with { Warmup = 5, Lr = 3e-3 });
        var ss = tf.WithDecoderInput(d => d with { Kind = DecoderInputKind.ScheduledSampling, SamplingDecay = TeacherForcingDecay.Linear, SamplingK = 1, SamplingC = 0 });
        var data = tf.LoadData(Workspace.Root(AppContext.BaseDirectory));
        new Trainer(tf, data, Path.Combine(folder, "tf")).Run();
        new Trainer(ss, data, Path.Combine(folder, "ss")).Run();
        using var a = Checkpoint.Load(Path.Combine(folder, "tf", "last.ckpt")).RestoreModel(torch.CPU);
        using var b = Checkpoint.Load(Path.Combine(folder, "ss", "last.ckpt")).RestoreModel(torch.CPU);
        foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(Reference.Identical(p, q), name);
    }
}
