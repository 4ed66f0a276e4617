using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>The <see cref="SequenceToSequence"/> contract, checked the same way for every architecture (vocabularies: source 12, target 10).</summary>
static class SequenceToSequenceChecks
{
    /// <summary>Step-by-step decoding (<see cref="SequenceToSequence.DecodeStep"/>) gives the teacher-forced logits at every position.</summary>
    public static void DecodeStepEqualsTeacherForcing(SequenceToSequence model)
    {
        using var _ = torch.no_grad();
        var encoded = model.Encode(torch.tensor(new long[,] { { 5, 6, 7, 8, 9 }, { 4, 5, 11, 0, 0 } }));
        var target = torch.tensor(new long[,] { { Vocabulary.Bos, 4, 5, 6 }, { Vocabulary.Bos, 7, 8, 9 } });
        var whole = model.Decode(target, encoded);
        using var state = model.StartDecoding(encoded);
        for (int t = 0; t < target.shape[1]; t++)
            Assert.True(model.DecodeStep(target.select(1, t), state).allclose(whole.select(1, t), rtol: 1e-5, atol: 1e-6), $"step {t}");
    }

    /// <summary>Padding the source changes no logit.</summary>
    public static void PaddingChangesNothing(SequenceToSequence model)
    {
        using var _ = torch.no_grad();
        var target = torch.tensor(new long[,] { { Vocabulary.Bos, 4, 5 } });
        var tight = model.forward(torch.tensor(new long[,] { { 5, 6, 7 } }), target);
        var padded = model.forward(torch.tensor(new long[,] { { 5, 6, 7, 0, 0, 0 } }), target);
        Assert.True(tight.allclose(padded, rtol: 1e-5, atol: 1e-6));
    }

    /// <summary>Trains <paramref name="architecture"/> (d_model 64, 600 steps) on copy, restores its best checkpoint, and returns it with its greedy test exact match.</summary>
    public static (SequenceToSequence Model, double ExactMatch) LearnCopy(string folder, Func<TrainingSettings, TrainingSettings> architecture, int layers = 1)
    {
        var s = architecture(TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 64, EncoderLayers = layers, DecoderLayers = layers, Dropout = 0.0 })
            .WithTask(t => t with { Symbols = 8, MinLength = 3, MaxLength = 6, TrainSize = 3000, DevSize = 100, TestSize = 100 })
            .WithLoop(l => l with { BatchSize = 64, MaxSteps = 600, EvalEvery = 300 })
            .WithOptimiser(o => o with { Warmup = 50, Lr = 3e-3 }) with { Threads = 1 });
        var data = s.LoadData(Workspace.Root(AppContext.BaseDirectory));
        Assert.Equal(RunStatus.Done, new Trainer(s, data, folder).Run().Status);
        var model = Checkpoint.Load(Path.Combine(folder, "best.ckpt")).RestoreSequenceToSequence(torch.CPU);
        var (metrics, _) = Evaluator.Decode(model, EvaluationItem.Group(data.Test), data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU);
        return (model, metrics.ExactMatch);
    }
}
