using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// The optimiser and its learning-rate schedule: AdamW (Loshchilov &amp; Hutter 2019; the paper's Adam with decoupled
/// weight decay) with linear warm-up, then the decay <see cref="Schedule"/> names, and global-norm gradient clipping.
/// </summary>
public sealed record OptimiserSettings
{
    /// <summary>Peak learning rate (for noam: the scale factor of the formula).</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>Learning-rate schedule after warm-up: noam, inverse_sqrt, cosine or constant.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;
    /// <summary>Steps of linear learning-rate warm-up from 0 to lr.</summary>
    public int Warmup { get; init; } = 1000;
    /// <summary>Cosine: the learning rate at the last step.</summary>
    public double MinLr { get; init; }
    /// <summary>AdamW's decoupled weight decay (TorchSharp's default is 0).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>AdamW's β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW's β₂ (0.98 in the paper).</summary>
    public double Beta2 { get; init; } = 0.98;
    /// <summary>Clip the global gradient norm to this; 0 = no clipping.</summary>
    public double Clip { get; init; } = 1.0;

    /// <summary>AdamW over <paramref name="parameters"/> at the peak rate (the loop sets each step's rate from <see cref="LearningRates"/>).</summary>
    public optim.Optimizer Create(IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        torch.optim.AdamW(parameters, lr: Lr, beta1: Beta1, beta2: Beta2, weight_decay: WeightDecay);

    /// <summary>The rate at each step of a run of <paramref name="totalSteps"/> steps (noam scales by <paramref name="dModel"/>^-0.5).</summary>
    public LearningRateSchedule LearningRates(int totalSteps, long dModel) => new(Schedule, Lr, Warmup, totalSteps, dModel, MinLr);

    /// <summary>The norm gradients are clipped to (infinity: no clipping).</summary>
    public double ClipNorm => Clip > 0 ? Clip : double.PositiveInfinity;

    /// <summary>Every problem with these settings, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (Lr <= 0) yield return $"lr must be positive (got {Lr}).";
        if (Lr > 1e30) yield return $"lr must be at most 1e30 (got {Lr}): the optimiser computes in float32, which overflows beyond.";
        if (Beta1 is < 0 or >= 1) yield return $"beta1 must be in [0, 1) (got {Beta1}).";
        if (Beta2 is < 0 or >= 1) yield return $"beta2 must be in [0, 1) (got {Beta2}).";
        if (Clip > 1e6) yield return $"clip above 1,000,000 clips nothing and overflows float32 (got {Clip}); use clip=0 for no clipping.";
        if (Warmup < 0) yield return $"warmup must be ≥ 0 (got {Warmup}).";
        if (Schedule == LearningRateScheduleKind.Noam && Warmup < 1) yield return "the noam schedule needs warmup ≥ 1.";
        if (Clip < 0) yield return $"clip must be ≥ 0 (got {Clip}).";
        if (WeightDecay < 0) yield return $"weight_decay must be ≥ 0 (got {WeightDecay}).";
    }

    /// <summary>Valid but almost certainly not meant for a run of <paramref name="maxSteps"/> steps.</summary>
    public IEnumerable<string> Warnings(int maxSteps)
    {
        if (Warmup >= maxSteps)
            yield return $"warmup ({Warmup}) ≥ max_steps ({maxSteps}): every step is warm-up, so the learning rate never reaches lr = {Lr}. " +
                         $"Lower warmup (e.g. --set warmup={Math.Max(1, maxSteps / 10)}) or raise max_steps.";
    }
}
