using TransformerLab.Data;
using TransformerLab.Training;

namespace TransformerLab.Tests.Training;

/// <summary>Training settings small enough to train in seconds on one core: the tests' shared starting point.</summary>
static class TinySettings
{
    /// <summary>d_model 32, 2 heads, 1 + 1 layers; 600 training examples of 2–5 symbols out of 6; 40 steps of batch 16, evaluated every 20.</summary>
    public static TrainingSettings For(TaskKind task = TaskKind.Copy) =>
        TrainingSettings.For(task).WithTransformer(m => m with { DModel = 32, Heads = 2, DFF = 64, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0.1 })
            .WithTask(t => t with { Symbols = 6, MinLength = 2, MaxLength = 5, TrainSize = 600, DevSize = 40, TestSize = 40 })
            .WithLoop(l => l with { BatchSize = 16, MaxSteps = 40, EvalEvery = 20, LogEvery = 5 })
            .WithOptimiser(o => o with { Warmup = 10, Lr = 3e-3, Schedule = LearningRateScheduleKind.Cosine });
}
