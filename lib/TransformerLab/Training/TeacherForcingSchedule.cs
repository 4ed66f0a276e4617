namespace TransformerLab.Training;

/// <summary>How the probability ε_i of feeding the gold token decays with the training step i (Bengio et al. 2015, §2.4).</summary>
public enum TeacherForcingDecay
{
    /// <summary>ε_i = max(ε_min, k − c·i).</summary>
    Linear,
    /// <summary>ε_i = k^i, k &lt; 1.</summary>
    Exponential,
    /// <summary>ε_i = k / (k + exp(i / k)), k ≥ 1: near 1 early, then a sigmoid-shaped fall around i ≈ k·ln k.</summary>
    InverseSigmoid,
}

/// <summary>ε_i, the probability that scheduled sampling feeds the gold token at step i (1 = teacher forcing).</summary>
public sealed record TeacherForcingSchedule(TeacherForcingDecay Decay, double K, double C = 0, double Minimum = 0)
{
    public static TeacherForcingSchedule From(DecoderInputSettings s) => new(s.SamplingDecay, s.SamplingK, s.SamplingC, s.SamplingMin);

    public double Epsilon(long step) => Decay switch
    {
        TeacherForcingDecay.Linear => Math.Clamp(K - C * step, Minimum, 1.0),
        TeacherForcingDecay.Exponential => Math.Pow(K, step),
        TeacherForcingDecay.InverseSigmoid => K / (K + Math.Exp(step / K)),
        _ => throw new ArgumentOutOfRangeException(nameof(Decay)),
    };

    /// <summary>Every problem with the parameters, one sentence each.</summary>
    public IReadOnlyList<string> Problems() => Decay switch
    {
        TeacherForcingDecay.Linear when C < 0 => [$"sampling_c must be ≥ 0 for linear decay (got {C})."],
        TeacherForcingDecay.Linear when Minimum is < 0 or > 1 => [$"sampling_min must be in [0, 1] (got {Minimum})."],
        TeacherForcingDecay.Exponential when K is <= 0 or > 1 => [$"sampling_k must be in (0, 1] for exponential decay (got {K})."],
        TeacherForcingDecay.InverseSigmoid when K < 1 => [$"sampling_k must be ≥ 1 for inverse-sigmoid decay (got {K})."],
        _ => [],
    };
}
