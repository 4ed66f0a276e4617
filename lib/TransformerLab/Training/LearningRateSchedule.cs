namespace TransformerLab.Training;

public enum LearningRateScheduleKind
{
    /// <summary>Vaswani et al. (2017), eq. 3: lr · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5).</summary>
    Noam,
    /// <summary>Linear warm-up to the peak, then decay ∝ 1/√step (Noam's shape, parametrised by its peak). No warm-up: constant.</summary>
    InverseSqrt,
    /// <summary>Linear warm-up to the peak, then half a cosine down to min_lr at the last step.</summary>
    Cosine,
    /// <summary>Linear warm-up to the peak, then constant.</summary>
    Constant,
}

/// <summary>The learning rate at each optimiser step (steps count from 1).</summary>
public sealed record LearningRateSchedule(LearningRateScheduleKind Kind, double Peak, int Warmup, int TotalSteps, long DModel = 512, double Minimum = 0)
{
    public double At(long step)
    {
        step = Math.Max(1, step);
        double warm = Warmup > 0 ? Math.Min(1.0, (double)step / Warmup) : 1.0;
        switch (Kind)
        {
            case LearningRateScheduleKind.Noam:
                return Peak * Math.Pow(DModel, -0.5) * Math.Min(Math.Pow(step, -0.5), step * Math.Pow(Math.Max(1, Warmup), -1.5));
            case LearningRateScheduleKind.InverseSqrt:
                return Warmup > 0 && step > Warmup ? Peak * Math.Sqrt((double)Warmup / step) : Peak * warm;
            case LearningRateScheduleKind.Cosine:
                if (step <= Warmup) return Peak * warm;
                var progress = Math.Min(1.0, (double)(step - Warmup) / Math.Max(1, TotalSteps - Warmup));
                return Minimum + (Peak - Minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress));
            case LearningRateScheduleKind.Constant:
                return Peak * warm;
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind));
        }
    }
}
