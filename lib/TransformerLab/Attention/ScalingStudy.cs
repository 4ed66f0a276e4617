using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>One measurement of <see cref="ScalingStudy"/>: averages over many random queries.</summary>
/// <param name="ScoreStd">standard deviation of the scores fed to softmax.</param>
/// <param name="Entropy">softmax entropy in nats (ln keys = uniform, 0 = one-hot).</param>
/// <param name="MaxWeight">the largest attention weight per query.</param>
/// <param name="GradientNorm">‖∂L/∂s‖ for a random linear loss L of the attention weights, s the softmax's input: how much
/// gradient the softmax lets through to the scores (and from there to q and k). Saturation drives it to zero.</param>
public sealed record ScalingMeasurement(long DK, bool Scaled, double ScoreStd, double Entropy, double MaxWeight, double GradientNorm);

/// <summary>
/// Why the paper divides by √d_k (§3.2.1): for q, k with independent unit-variance entries, q·k has variance d_k.
/// Unscaled, the scores grow with d_k, softmax saturates towards one-hot, and its gradient vanishes. This measures
/// that on random vectors, with and without the scale.
/// </summary>
public static class ScalingStudy
{
    public static ScalingMeasurement Measure(long dk, bool scaled, long keys = 32, long queries = 512, long seed = 0)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var q = torch.randn([queries, 1, dk], generator: generator);
        var k = torch.randn([queries, keys, dk], generator: generator);
        var upstream = torch.randn([queries, 1, keys], generator: generator);
        var raw = q.matmul(k.transpose(-2, -1));                     // [queries, 1, keys]
        var scores = (scaled ? raw / Math.Sqrt(dk) : raw).detach().requires_grad_();
        var weights = scores.softmax(-1);
        (weights * upstream).sum().backward();                      // L = Σ_j g_j w_j, g random

        var entropy = -(weights * weights.clamp_min(1e-30).log()).sum(-1);
        return new ScalingMeasurement(dk, scaled,
            scores.std().item<float>(),
            entropy.mean().item<float>(),
            weights.amax([-1L]).mean().item<float>(),
            scores.grad!.square().sum(-1).sqrt().mean().item<float>());
    }
}
