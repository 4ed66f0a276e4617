using TorchSharp;
using TransformerLab.Runtime;
using TransformerLab.Data;
using TransformerLab.Training;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Training;

public class LossAndScheduleTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void Label_smoothed_loss_equals_torch_cross_entropy_and_ignores_padding(double smoothing)
    {
        torch.manual_seed(2);
        using var logits = torch.randn(3, 5, 7) * 3;
        using var targets = torch.randint(1, 7, [3, 5]);
        targets[0, 3..] = 0;
        targets[2, 1..] = 0;
        using var ours = LabelSmoothedCrossEntropy.Loss(logits, targets, smoothing, padId: 0);
        using var theirs = nn.functional.cross_entropy(logits.view(-1, 7), targets.view(-1), ignore_index: 0, label_smoothing: smoothing);
        Assert.Equal(theirs.item<float>(), ours.item<float>(), 5);
    }

    [Fact]
    public void Label_smoothed_loss_of_one_position_by_hand()
    {
        // p = softmax([0, ln 3]) = [1/4, 3/4], target 1, ε = 0.2: 0.8·(−ln ¾) + 0.2·mean(−ln ¼, −ln ¾)
        using var logits = torch.tensor(new[] { 0f, (float)Math.Log(3) }).view(1, 1, 2);
        using var target = torch.tensor(new long[] { 1 }).view(1, 1);
        var expected = 0.8 * -Math.Log(0.75) + 0.2 * 0.5 * (-Math.Log(0.25) - Math.Log(0.75));
        Assert.Equal(expected, LabelSmoothedCrossEntropy.Loss(logits, target, 0.2, padId: 0).item<float>(), 5);
    }

    [Fact]
    public void Noam_is_the_papers_formula()
    {
        var s = new LearningRateSchedule(LearningRateScheduleKind.Noam, Peak: 1.0, Warmup: 4000, TotalSteps: 100_000, DModel: 512);
        Assert.Equal(Math.Pow(512, -0.5) * 100 * Math.Pow(4000, -1.5), s.At(100), 12);
        Assert.Equal(Math.Pow(512, -0.5) * Math.Pow(4000, -0.5), s.At(4000), 12); // the peak, ≈ 7.0e-4
        Assert.Equal(Math.Pow(512, -0.5) * Math.Pow(16000, -0.5), s.At(16000), 12);
    }

    [Fact]
    public void Warmup_schedules_rise_linearly_then_decay_as_named()
    {
        var inv = new LearningRateSchedule(LearningRateScheduleKind.InverseSqrt, 1e-3, 1000, 10_000);
        Assert.Equal(0.5e-3, inv.At(500), 12);
        Assert.Equal(1e-3, inv.At(1000), 12);
        Assert.Equal(0.5e-3, inv.At(4000), 12);
        var cos = new LearningRateSchedule(LearningRateScheduleKind.Cosine, 1e-3, 1000, 11_000, Minimum: 1e-5);
        Assert.Equal(1e-3, cos.At(1000), 12);
        Assert.Equal(1e-5 + (1e-3 - 1e-5) / 2, cos.At(6000), 12);
        Assert.Equal(1e-5, cos.At(11_000), 12);
        var constant = new LearningRateSchedule(LearningRateScheduleKind.Constant, 1e-3, 0, 100);
        Assert.Equal(1e-3, constant.At(1), 12);
        Assert.Equal(1e-3, new LearningRateSchedule(LearningRateScheduleKind.InverseSqrt, 1e-3, 0, 100).At(50), 12);
    }
}

public class SettingsTests
{
    [Fact]
    public void Keys_are_snake_case_and_values_are_parsed_by_type()
    {
        var s = Settings.With(new TrainingSettings(), [new("d_model", "64"), new("norm", "post"), new("lr", "2e-3"), new("schedule", "inverse_sqrt"), new("tie_embeddings", "false")]);
        Assert.Equal(64, s.Model.Transformer.DModel);
        Assert.Equal(TransformerLab.Model.NormPlacement.Post, s.Model.Transformer.Norm);
        Assert.Equal(2e-3, s.Optimiser.Lr);
        Assert.Equal(LearningRateScheduleKind.InverseSqrt, s.Optimiser.Schedule);
        Assert.False(s.Model.Transformer.TieEmbeddings);
        Assert.Equal(256, new TrainingSettings().Model.Transformer.DModel); // the original is untouched
        Assert.Equal(s, Settings.FromJson(Settings.ToJson(s), new TrainingSettings()));
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_valid_ones()
    {
        var e = Assert.Throws<SettingsException>(() => Settings.With(new TrainingSettings(), [new("d_modle", "64")]));
        Assert.Contains("'d_modle'", e.Message);
        Assert.Contains("d_model", e.Message);
    }

    [Theory]
    [InlineData("d_model", "big", "an integer")]
    [InlineData("lr", "fast", "a number")]
    [InlineData("norm", "middle", "post | pre")]
    [InlineData("tie_embeddings", "maybe", "true or false")]
    public void A_bad_value_names_the_key_and_the_expected_type(string key, string value, string expected)
    {
        var e = Assert.Throws<SettingsException>(() => Settings.With(new TrainingSettings(), [new(key, value)]));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
