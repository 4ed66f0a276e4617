using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// REINFORCE (Williams 1992) for sequence outputs, as Ranzato et al. (2016) apply it: sample y ~ p(·|x), and follow
/// ∇ E[−Δ] = E[−(Δ(y, y*) − b) ∇ log p(y|x)]. The baseline b lowers the variance without biasing the gradient; here it
/// is, for each sample, the mean cost of the other samples of the same source (leave-one-out, Kool et al. 2019), so it
/// needs no learned critic and a source whose samples all cost the same contributes nothing.
/// </summary>
public static class Reinforce
{
    /// <summary>The surrogate loss whose gradient is the policy gradient, averaged over samples and rows.</summary>
    /// <param name="logProbabilities"><c>[batch, samples]</c> log p(y|x) of each sample, with gradient.</param>
    /// <param name="costs"><c>[batch, samples]</c> Δ(y, y*); at least two samples per row.</param>
    public static Tensor Loss(Tensor logProbabilities, Tensor costs)
    {
        using var scope = NewDisposeScope();
        long k = costs.shape[1];
        if (k < 2) throw new ArgumentException($"a leave-one-out baseline needs at least 2 samples per source (got {k}).");
        var baseline = (costs.sum(-1, keepdim: true) - costs) / (k - 1);
        var advantage = (costs - baseline).detach(); // the cost is a number, not a function of θ
        return (advantage * logProbabilities).mean().MoveToOuterDisposeScope();
    }
}
