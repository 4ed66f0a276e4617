using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Metrics;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Training;

/// <summary>Minimum risk training and REINFORCE: their gradients by hand, the candidates' scores against decoding, and fine-tuning end to end.</summary>
public sealed class SequenceLevelTrainingTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-sequence-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    static (double[] Value, double[] Gradient) ValueAndGradient(double[] logProbabilities, Func<Tensor, Tensor> loss)
    {
        var logp = torch.tensor(logProbabilities, dtype: ScalarType.Float64).unsqueeze(0).requires_grad_();
        var value = loss(logp);
        value.backward();
        return ([value.item<double>()], logp.grad!.squeeze(0).data<double>().ToArray());
    }

    [Fact]
    public void Risk_is_the_expected_cost_under_Q_and_its_gradient_raises_the_cheaper_candidate()
    {
        // Q = (0.25, 0.75) with α = 1, Δ = (0, 1): R = 0.75; ∂R/∂log p_i = α Q_i (Δ_i − R) = (−0.1875, +0.1875)
        var costs = torch.tensor(new[] { 0.0, 1.0 }, dtype: ScalarType.Float64).unsqueeze(0);
        var valid = torch.ones(1, 2, dtype: ScalarType.Bool);
        var (risk, gradient) = ValueAndGradient([Math.Log(0.25), Math.Log(0.75)], logp => MinimumRiskTraining.Risk(logp, costs, valid, alpha: 1));
        Assert.Equal(0.75, risk[0], 12);
        Assert.Equal(-0.1875, gradient[0], 12);
        Assert.Equal(0.1875, gradient[1], 12);
        // α sharpens Q: with α = 2, Q = (0.1, 0.9) and R = 0.9
        var (sharp, _) = ValueAndGradient([Math.Log(0.25), Math.Log(0.75)], logp => MinimumRiskTraining.Risk(logp, costs, valid, alpha: 2));
        Assert.Equal(0.9, sharp[0], 12);
    }

    [Fact]
    public void Risk_ignores_empty_slots_and_equal_costs_give_no_gradient()
    {
        var valid = torch.tensor(new[] { true, true, false }).unsqueeze(0);
        var costs = torch.tensor(new[] { 0.0, 1.0, 0.0 }, dtype: ScalarType.Float64).unsqueeze(0);
        var (risk, gradient) = ValueAndGradient([Math.Log(0.25), Math.Log(0.75), 5.0], logp => MinimumRiskTraining.Risk(logp, costs, valid, alpha: 1));
        Assert.Equal(0.75, risk[0], 12);
        Assert.Equal(0.0, gradient[2]);

        var same = torch.full(1, 3, 0.4, dtype: ScalarType.Float64);
        var (_, flat) = ValueAndGradient([-1.0, -2.0, -3.0], logp => MinimumRiskTraining.Risk(logp, same, torch.ones(1, 3, dtype: ScalarType.Bool), alpha: 1));
        Assert.All(flat, g => Assert.Equal(0.0, g, 12));
    }

    [Fact]
    public void Reinforce_with_a_leave_one_out_baseline_pushes_by_the_advantage_and_a_constant_reward_does_nothing()
    {
        // Δ = (0, 1): baselines (1, 0), advantages (−1, +1); loss = mean(A·log p) so ∂/∂log p = (−½, +½)
        var costs = torch.tensor(new[] { 0.0, 1.0 }, dtype: ScalarType.Float64).unsqueeze(0);
        var (_, gradient) = ValueAndGradient([-0.3, -1.7], logp => Reinforce.Loss(logp, costs));
        Assert.Equal(-0.5, gradient[0], 12);
        Assert.Equal(0.5, gradient[1], 12);

        var zero = torch.zeros(1, 4, dtype: ScalarType.Float64); // reward 0 for every sample: no update
        var (_, none) = ValueAndGradient([-0.3, -1.7, -0.1, -2.0], logp => Reinforce.Loss(logp, zero));
        Assert.All(none, g => Assert.Equal(0.0, g, 12));
    }

    [Fact]
    public void A_candidates_log_probability_is_what_greedy_decoding_scored_it()
    {
        TorchRuntime.Seed(3);
        using var model = new EncoderDecoder(new TransformerConfig { SourceVocabulary = 9, TargetVocabulary = 9, DModel = 16, Heads = 2, DFF = 32, EncoderLayers = 1, DecoderLayers = 1, MaxLength = 32, Dropout = 0 });
        model.eval();
        var source = torch.tensor(new long[] { 4, 5, 6, 7, 8, 4, 6, 0 }, [2, 4]);
        var decoded = Greedy.Decode(model, source, maxLength: 12);
        Assert.All(decoded, h => Assert.True(h.Finished || h.Tokens.Length == 12));
        var finished = decoded.Select((h, i) => (h, i)).Where(x => x.h.Finished).ToList();
        Assert.NotEmpty(finished);
        var set = CandidateSet.Of(decoded.Select(h => (IReadOnlyList<long[]>)[h.Tokens]).ToList(), [[4], [4]]);
        var encoded = model.Encode(source);
        var scored = set.LogProbabilities(model, encoded).squeeze(1).to(ScalarType.Float64).data<double>().ToArray();
        foreach (var (h, i) in finished) Assert.Equal(h.LogProbability, scored[i], 4);
    }

    [Fact]
    public void Costs_are_the_metrics_of_each_candidate_against_its_reference()
    {
        long[] reference = [5, 6, 7, 8];
        var set = CandidateSet.Of([[reference, [5, 6, 7], [9, 9, 9, 9]]], [reference]);
        Assert.Equal([0f, 1f, 1f], set.Costs(SequenceCostKind.SequenceError, torch.CPU).data<float>().ToArray());
        Assert.Equal([0f, 0.25f, 1f], set.Costs(SequenceCostKind.SymbolError, torch.CPU).data<float>().ToArray());
        var bleu = set.Costs(SequenceCostKind.Bleu, torch.CPU).data<float>().ToArray();
        Assert.Equal(0f, bleu[0], 6);
        Assert.InRange(bleu[1], 0.01f, 0.99f);
        Assert.Equal(1f, bleu[2]);
    }

    [Theory]
    [InlineData(TrainingObjective.Mrt)]
    [InlineData(TrainingObjective.Reinforce)]
    public void Fine_tuning_from_an_mle_checkpoint_runs_the_same_twice_and_starts_from_its_weights(TrainingObjective objective)
    {
        var mle = TinySettings.For(TaskKind.Reverse).WithLoop(l => l with { MaxSteps = 20, EvalEvery = 20 }) with { Threads = 1 };
        var data = mle.LoadData(Workspace.Root(AppContext.BaseDirectory));
        new Trainer(mle, data, Path.Combine(folder, "mle")).Run();
        var start = Path.Combine(folder, "mle", "best.ckpt");
        var tuned = mle
            .WithLoop(l => l with { MaxSteps = 6, EvalEvery = 6, LogEvery = 1 })
            .WithOptimiser(o => o with { Warmup = 0, Lr = 1e-3 })
            .WithSequence(_ => new SequenceTrainingSettings { Objective = objective, Candidates = 4, InitFrom = start, MleWeight = 0.5, MleAnneal = 4 });
        var a = new Trainer(tuned, data, Path.Combine(folder, "a")).Run();
        var b = new Trainer(tuned, data, Path.Combine(folder, "b")).Run();
        Assert.Equal(RunStatus.Done, a.Status);
        Assert.Equal(File.ReadAllLines(Path.Combine(folder, "a", "steps.csv")).Select(l => l.Split(',')[2]), File.ReadAllLines(Path.Combine(folder, "b", "steps.csv")).Select(l => l.Split(',')[2]));

        // the first step's starting point is the MLE model: its dev loss before any update equals the checkpoint's
        var zeroSteps = tuned.WithLoop(l => l with { MaxSteps = 1, EvalEvery = 1 }).WithOptimiser(o => o with { Lr = 1e-12, Warmup = 0 }).WithSequence(q => q with { MleWeight = 0 });
        var first = new Trainer(zeroSteps, data, Path.Combine(folder, "c")).Run();
        var mleBest = Checkpoint.Load(start);
        Assert.Equal(mleBest.Progress.BestDevError, first.Best!.SequenceError, 6);
    }

    [Fact]
    public void A_bad_init_from_is_refused_before_anything_is_written()
    {
        var s = TinySettings.For(TaskKind.Reverse).WithSequence(_ => new SequenceTrainingSettings { Objective = TrainingObjective.Mrt, InitFrom = Path.Combine(folder, "missing.ckpt") });
        var run = Path.Combine(folder, "run");
        var error = Assert.Throws<SettingsException>(() => new Trainer(s, s.LoadData(Workspace.Root(AppContext.BaseDirectory)), run).Run());
        Assert.Contains("init_from", error.Message);
        Assert.False(Directory.Exists(run));

        var nat = s.WithArchitecture(Architecture.NonAutoregressive);
        Assert.Contains(nat.Problems(), p => p.Contains("not the NAT"));
        Assert.Contains((s.WithSequence(q => q with { Objective = TrainingObjective.Reinforce, Candidates = 1 })).Problems(), p => p.Contains("candidates must be ≥ 2"));
    }
}
