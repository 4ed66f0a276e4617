using System.Text.Json.Serialization;
using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// Guided attention (Tachibana et al. 2017): an auxiliary loss that makes cross-attention nearly diagonal, for tasks
/// whose alignment is monotonic (speech; G2P, where letters and phonemes run left to right together). Weight far from
/// the diagonal is penalised by W_nt = 1 − exp(−(n/N − t/T)² / 2g²) for output position t of T and source position n of
/// N: the loss is the mean over real (t, n) pairs, heads and rows of A_tn · W_nt. g sets how wide the tolerated band is.
/// </summary>
public static class GuidedAttention
{
    /// <summary>
    /// How far each (output position t, source position n) pair lies from the diagonal, n/N − t/T, for rows of T real
    /// outputs and N real source positions, and which pairs are real (t &lt; T and n &lt; N). Both <c>[batch, target time, source time]</c>.
    /// </summary>
    /// <param name="targetLengths"><c>[batch]</c> real output positions T of each row; <paramref name="sourceLengths"/> <c>[batch]</c> N.</param>
    public static (Tensor Distance, Tensor Real) FromDiagonal(Tensor targetLengths, Tensor sourceLengths, long targetTime, long sourceTime)
    {
        using var scope = NewDisposeScope();
        var t = torch.arange(targetTime, dtype: ScalarType.Float32, device: targetLengths.device).view(1, -1, 1);
        var n = torch.arange(sourceTime, dtype: ScalarType.Float32, device: targetLengths.device).view(1, 1, -1);
        var T = targetLengths.to(ScalarType.Float32).view(-1, 1, 1);
        var N = sourceLengths.to(ScalarType.Float32).view(-1, 1, 1);
        return ((n / N - t / T).MoveToOuterDisposeScope(), t.lt(T).logical_and(n.lt(N)).MoveToOuterDisposeScope());
    }

    /// <summary>The penalty matrix W <c>[batch, target time, source time]</c> for rows of the given lengths (0 outside them).</summary>
    /// <param name="targetLengths"><c>[batch]</c> real output positions T of each row; <paramref name="sourceLengths"/> <c>[batch]</c> N.</param>
    public static Tensor Weights(Tensor targetLengths, Tensor sourceLengths, long targetTime, long sourceTime, double g)
    {
        using var scope = NewDisposeScope();
        var (distance, real) = FromDiagonal(targetLengths, sourceLengths, targetTime, sourceTime);
        var w = 1 - torch.exp(-distance.pow(2) / (2 * g * g));
        return (w * real.to(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    /// <summary>The loss for cross-attention weights <paramref name="attention"/> <c>[batch, heads, target time, source time]</c>.</summary>
    public static Tensor Loss(Tensor attention, Tensor targetLengths, Tensor sourceLengths, double g)
    {
        using var scope = NewDisposeScope();
        var w = Weights(targetLengths, sourceLengths, attention.shape[2], attention.shape[3], g).unsqueeze(1); // [b, 1, T, N]
        var pairs = (targetLengths * sourceLengths).sum().to(ScalarType.Float32) * attention.shape[1];         // real (t, n) pairs × heads
        return ((attention * w).sum() / pairs).MoveToOuterDisposeScope();
    }
}

/// <summary>The guided-attention term of the objective: λ times <see cref="GuidedAttention.Loss"/> on the last decoder layer's cross-attention.</summary>
public sealed record GuidedAttentionTerm
{
    /// <summary>Weight λ of the guided-attention loss on the last decoder layer's cross-attention (Tachibana et al. 2017); 0 = off.</summary>
    [JsonPropertyName("guided_attention")] public double Weight { get; init; }
    /// <summary>g of guided attention: how far from the diagonal weight is tolerated (W = 1 − exp(−(n/N − t/T)² / 2g²)).</summary>
    [JsonPropertyName("guided_attention_width")] public double Width { get; init; } = 0.2;

    /// <summary>Whether the term is part of the loss (λ &gt; 0).</summary>
    public bool IsOn => Weight > 0;

    /// <summary>λ · the loss of <paramref name="attention"/> <c>[batch, heads, target time, source time]</c> for the rows of <paramref name="batch"/>.</summary>
    public Tensor Loss(Tensor attention, Batch batch) =>
        Weight * GuidedAttention.Loss(attention, batch.TargetOutput.ne(Vocabulary.Pad).sum([1L]), batch.Source.ne(Vocabulary.Pad).sum([1L]), Width);

    /// <summary>Every problem with the term for <paramref name="model"/>, one sentence each.</summary>
    public IEnumerable<string> Problems(ModelSettings model)
    {
        if (Weight < 0) yield return $"guided_attention must be ≥ 0 (got {Weight}).";
        if (Width <= 0) yield return $"guided_attention_width must be positive (got {Width}).";
        if (IsOn && model.Architecture != Architecture.Autoregressive) yield return "guided_attention shapes the Transformer decoder's cross-attention (architecture=autoregressive); the NAT and the rnn baseline have no such training loss here.";
    }
}
