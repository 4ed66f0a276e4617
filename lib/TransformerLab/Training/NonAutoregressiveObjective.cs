using System.Text.Json.Serialization;
using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>Which output positions a NAT reads as unknown (the placeholder) during training.</summary>
public enum NatMasking
{
    /// <summary>Every position (Gu et al. 2018): the model learns to produce the whole output from the source alone.</summary>
    All,
    /// <summary>A uniformly drawn number of positions, the rest show the gold token and are not scored (the conditional
    /// masked LM of Ghazvininejad et al. 2019): the model also learns to fill in a partly known output, which mask-predict needs.</summary>
    Uniform,
}

/// <summary>
/// The NAT's training loss: cross-entropy of every unknown output position, at the gold length, plus a weighted
/// cross-entropy of the length classifier: L = L_tokens + λ·L_length.
/// </summary>
public static class NonAutoregressiveObjective
{
    /// <summary>The decoder input and the labels of a batch at its gold lengths.</summary>
    /// <param name="batch">its <see cref="Batch.TargetOutput"/> <c>[batch, time]</c> is y₁…yₙ EOS PAD….</param>
    /// <returns>tokens (placeholder, gold token, or PAD beyond the output) and labels (PAD = not scored), both
    /// <c>[batch, width]</c>: width = the longest target for a length classifier, <see cref="NonAutoregressiveConfig.MaxTargetLength"/>
    /// with EOS for <see cref="LengthPrediction.CutAtEos"/>.</returns>
    public static (Tensor Tokens, Tensor Labels) Targets(NonAutoregressiveConfig config, Batch batch, NatMasking masking)
    {
        using var scope = NewDisposeScope();
        var gold = batch.TargetOutput;
        Tensor labels, tokens;
        if (config.Length == LengthPrediction.CutAtEos)
        {
            // every one of the fixed positions is a placeholder; the output is y₁…yₙ EOS, positions after EOS are not scored
            var width = config.MaxTargetLength;
            labels = gold.shape[1] >= width ? gold.narrow(1, 0, width) : nn.functional.pad(gold, [0, width - gold.shape[1]], value: Vocabulary.Pad);
            tokens = torch.full_like(labels, NonAutoregressiveTransformer.Placeholder);
        }
        else
        {
            // the length is given, so EOS is not an output
            var outputs = gold.narrow(1, 0, Math.Max(1, gold.shape[1] - 1));
            labels = outputs.masked_fill(outputs.eq(Vocabulary.Eos), Vocabulary.Pad);
            tokens = torch.where(labels.ne(Vocabulary.Pad), torch.full_like(labels, NonAutoregressiveTransformer.Placeholder), torch.zeros_like(labels));
        }
        if (masking == NatMasking.Uniform)
        {
            var scored = labels.ne(Vocabulary.Pad);
            var count = scored.sum([1L], keepdim: true);
            var masked = torch.rand(labels.shape, device: labels.device).masked_fill(scored.logical_not(), 2.0).argsort(1).argsort(1) // rank of each scored position
                .lt((torch.rand(count.shape, device: labels.device) * count).floor() + 1);                                        // keep k ~ U{1…n} of them unknown
            var shown = scored.logical_and(masked.logical_not());
            tokens = torch.where(shown, labels, tokens);
            labels = labels.masked_fill(shown, Vocabulary.Pad);
        }
        return (tokens.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>The training loss of one batch; the model is in whatever mode the caller set.</summary>
    public static Tensor Loss(NonAutoregressiveTransformer model, Batch batch, double labelSmoothing, double lengthWeight, NatMasking masking)
    {
        using var scope = NewDisposeScope();
        var (memory, sourceMask) = model.Encode(batch.Source);
        var (tokens, labels) = Targets(model.Config, batch, masking);
        var loss = LabelSmoothedCrossEntropy.Loss(model.Decode(tokens, batch.Source, memory, sourceMask), labels, labelSmoothing, Vocabulary.Pad);
        if (model.Config.Length != LengthPrediction.CutAtEos && lengthWeight > 0)
            loss = loss + lengthWeight * LengthLoss(model, batch, memory, sourceMask);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of the length classifier against the gold length class.</summary>
    public static Tensor LengthLoss(NonAutoregressiveTransformer model, Batch batch, Tensor memory, Tensor sourceMask)
    {
        using var scope = NewDisposeScope();
        var gold = model.LengthClass(GoldLengths(batch), batch.Source.ne(Vocabulary.Pad).sum([1L]));
        return nn.functional.cross_entropy(model.LengthLogits(memory, sourceMask), gold).MoveToOuterDisposeScope();
    }

    /// <summary>Output lengths without EOS: <c>[batch]</c>.</summary>
    public static Tensor GoldLengths(Batch batch) => batch.TargetOutput.ne(Vocabulary.Pad).sum([1L]) - 1;
}

/// <summary>The NAT's length term of the objective: λ of L_tokens + λ·L_length (<see cref="NonAutoregressiveObjective"/>).</summary>
public sealed record LengthLossTerm
{
    /// <summary>λ of L_tokens + λ·L_length.</summary>
    [JsonPropertyName("length_loss_weight")] public double Weight { get; init; } = 0.1;

    /// <summary>Every problem with the term, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (Weight < 0) yield return $"length_loss_weight must be ≥ 0 (got {Weight}).";
    }
}
