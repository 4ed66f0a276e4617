using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// Minimum risk training (Shen et al. 2016): instead of the reference's likelihood, minimise the expected cost of the
/// model's own outputs, R(θ) = Σ_x Σ_{y ∈ S(x)} Q(y|x; θ, α) · Δ(y, y*), where S(x) is a set of candidates (samples,
/// and here the reference) and Q(y|x) = p(y|x)^α / Σ_{y' ∈ S(x)} p(y'|x)^α renormalises the model over the set. The cost
/// Δ — a word error, an edit distance, 1 − BLEU — need not be differentiable: the gradient flows through Q alone, raising
/// the candidates cheaper than Q's average and lowering the dearer ones.
/// </summary>
public static class MinimumRiskTraining
{
    /// <summary>The risk averaged over rows.</summary>
    /// <param name="logProbabilities"><c>[batch, slots]</c> log p(y|x) of each candidate, with gradient.</param>
    /// <param name="costs"><c>[batch, slots]</c> Δ(y, y*).</param>
    /// <param name="valid"><c>[batch, slots]</c> bool: which slots hold a candidate.</param>
    /// <param name="alpha">α: small values flatten Q towards uniform over the set, large ones concentrate it on the most probable candidate.</param>
    public static Tensor Risk(Tensor logProbabilities, Tensor costs, Tensor valid, double alpha)
    {
        using var scope = NewDisposeScope();
        var q = (alpha * logProbabilities).masked_fill(valid.logical_not(), double.NegativeInfinity).softmax(-1); // Q(y|x) over each row's set
        return (q * costs).sum(-1).mean().MoveToOuterDisposeScope();
    }
}
