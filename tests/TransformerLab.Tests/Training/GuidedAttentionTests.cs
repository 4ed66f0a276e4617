using TorchSharp;
using TransformerLab.Model;
using TransformerLab.Data;
using TransformerLab.Runtime;
using TransformerLab.Training;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Training;

/// <summary>Guided attention (Tachibana et al. 2017): the penalty by hand, and a training run that uses it.</summary>
public sealed class GuidedAttentionTests
{
    static double W(int t, int n, int T, int N, double g) => 1 - Math.Exp(-Math.Pow((double)n / N - (double)t / T, 2) / (2 * g * g));

    [Fact]
    public void The_penalty_matrix_is_the_formula_inside_each_rows_lengths_and_zero_outside()
    {
        var w = GuidedAttention.Weights(torch.tensor(new long[] { 2, 1 }), torch.tensor(new long[] { 3, 2 }), targetTime: 2, sourceTime: 3, g: 0.5);
        Assert.Equal(new long[] { 2, 2, 3 }, w.shape);
        for (int t = 0; t < 2; t++)
            for (int n = 0; n < 3; n++)
                Assert.Equal(W(t, n, 2, 3, 0.5), w[0, t, n].item<float>(), 5);
        Assert.Equal(W(0, 1, 1, 2, 0.5), w[1, 0, 1].item<float>(), 5);
        Assert.Equal(0f, w[1, 1].abs().sum().item<float>()); // beyond the second row's one target position
        Assert.Equal(0f, w[1, 0, 2].item<float>());           // beyond its two source positions
        Assert.Equal(0f, w[0, 0, 0].item<float>());           // on the diagonal: no penalty
    }

    [Fact]
    public void The_loss_is_the_mean_penalised_weight_and_prefers_the_diagonal()
    {
        // one row, two heads, T = 3 outputs over N = 3 sources: uniform attention, by hand
        var uniform = torch.full(1, 2, 3, 3, 1.0 / 3);
        double expected = 0;
        for (int t = 0; t < 3; t++) for (int n = 0; n < 3; n++) expected += 2 * W(t, n, 3, 3, 0.2) / 3;
        expected /= 3 * 3 * 2;
        var lengths = torch.tensor(new long[] { 3 });
        Assert.Equal(expected, GuidedAttention.Loss(uniform, lengths, lengths, 0.2).item<float>(), 5);
        var diagonal = torch.eye(3).expand(1, 2, 3, 3);
        var antiDiagonal = torch.eye(3).flip(1).expand(1, 2, 3, 3);
        Assert.Equal(0f, GuidedAttention.Loss(diagonal, lengths, lengths, 0.2).item<float>(), 6);
        Assert.True(GuidedAttention.Loss(antiDiagonal, lengths, lengths, 0.2).item<float>() > GuidedAttention.Loss(uniform, lengths, lengths, 0.2).item<float>());
    }

    [Fact]
    public void A_model_trains_with_guided_attention_and_its_loss_adds_the_penalty()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tlab-guided-" + Guid.NewGuid().ToString("N"));
        try
        {
            TrainingSettings Copy(double weight) => TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 32, Heads = 2, DFF = 64, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0 })
                .WithTask(t => t with { Symbols = 6, MinLength = 3, MaxLength = 6, TrainSize = 400, DevSize = 20, TestSize = 20 })
                .WithLoop(l => l with { BatchSize = 16, MaxSteps = 30, EvalEvery = 30, LogEvery = 5 })
                .WithOptimiser(o => o with { Warmup = 5, Lr = 3e-3 })
                .WithGuidedAttention(g => g with { Weight = weight }) with { Threads = 1 };
            var data = Copy(0).LoadData(Workspace.Root(AppContext.BaseDirectory));
            Assert.Equal(RunStatus.Done, new Trainer(Copy(1.0), data, Path.Combine(folder, "guided")).Run().Status);
            Assert.Equal(RunStatus.Done, new Trainer(Copy(0.0), data, Path.Combine(folder, "plain")).Run().Status);
            double FirstLoss(string run) => Csv.Read(Path.Combine(folder, run, "steps.csv"))[0]["loss"];
            // the same initialisation and batches: the guided run's loss carries the penalty on top (a positive number below 1)
            Assert.InRange(FirstLoss("guided") - FirstLoss("plain"), 1e-4, 1.0);
            Assert.Contains(SettingsProblems(Copy(1.0).WithArchitecture(Architecture.NonAutoregressive)), p => p.Contains("guided_attention"));
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }

    static IReadOnlyList<string> SettingsProblems(TrainingSettings s)
    {
        try { s.Validate(); return []; }
        catch (SettingsException e) { return [e.Message]; }
    }
}
