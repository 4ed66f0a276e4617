using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// Cross-entropy against a smoothed target (Szegedy et al. 2016; the paper uses ε = 0.1): the true token gets
/// 1 − ε plus its share of ε spread uniformly over the vocabulary, so
/// loss = (1 − ε) · (−log p_y) + ε · mean_v(−log p_v). Padding positions count for nothing.
/// Equal to <c>torch.nn.functional.cross_entropy(…, ignore_index: pad, label_smoothing: ε)</c>.
/// </summary>
public static class LabelSmoothedCrossEntropy
{
    /// <param name="logits"><c>[batch, time, vocabulary]</c></param>
    /// <param name="targets"><c>[batch, time]</c> token ids, <paramref name="padId"/> where there is no token.</param>
    /// <returns>the mean loss over non-pad positions (a scalar).</returns>
    public static Tensor Loss(Tensor logits, Tensor targets, double smoothing, long padId)
    {
        using var scope = NewDisposeScope();
        var logProbs = logits.log_softmax(-1);
        var nll = -logProbs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
        // without smoothing the uniform term is left out, not multiplied by 0: a copying model's −∞ entries would make it NaN
        var perToken = smoothing == 0 ? nll : (1 - smoothing) * nll + smoothing * -logProbs.mean([-1L]);
        var real = targets.ne(padId);
        return (perToken.masked_fill(real.logical_not(), 0).sum() / real.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }
}
