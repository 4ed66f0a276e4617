using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
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

/// <summary>The likelihood term of the objective: label-smoothed cross-entropy of the reference (<see cref="LabelSmoothedCrossEntropy"/>).</summary>
public sealed record CrossEntropyTerm
{
    /// <summary>Label smoothing ε of the cross-entropy (0.1 in the paper).</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <param name="logits"><c>[batch, time, vocabulary]</c></param>
    /// <param name="targets"><c>[batch, time]</c>, PAD where there is no token.</param>
    public Tensor Loss(Tensor logits, Tensor targets) => LabelSmoothedCrossEntropy.Loss(logits, targets, LabelSmoothing, Vocabulary.Pad);

    /// <summary>Every problem with ε for <paramref name="model"/>, one sentence each.</summary>
    public IEnumerable<string> Problems(ModelSettings model)
    {
        if (LabelSmoothing is < 0 or >= 1) yield return $"label_smoothing must be in [0, 1) (got {LabelSmoothing}).";
        if (model.Copy && LabelSmoothing > 0) yield return $"copy: the pointer-generator gives probability 0 to every extended word a row lacks, so a smoothed target has an infinite loss; set label_smoothing=0 (See et al. train without smoothing; got {LabelSmoothing}).";
    }
}
