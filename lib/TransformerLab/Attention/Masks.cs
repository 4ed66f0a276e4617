using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// Attention masks. Convention: boolean, <c>true</c> = may attend. Each mask is shaped to broadcast against
/// attention scores <c>[batch, heads, query time, key time]</c>, so masks combine with <see cref="Combine"/>.
/// </summary>
public static class Masks
{
    /// <summary>
    /// The look-ahead mask of a decoder: position t may attend to positions ≤ t only, so that training with the
    /// whole target at once cannot copy the next token from the input.
    /// </summary>
    /// <returns><c>[1, 1, time, time]</c>, lower-triangular.</returns>
    public static Tensor Causal(long time, Device? device = null) =>
        torch.ones(time, time, dtype: ScalarType.Bool, device: device).tril().view(1, 1, time, time);

    /// <summary>Keys that are real tokens (not padding), from the token ids.</summary>
    /// <param name="tokens"><c>[batch, time]</c> token ids.</param>
    /// <returns><c>[batch, 1, 1, time]</c>: true where the key is not <paramref name="padId"/>.</returns>
    public static Tensor Padding(Tensor tokens, long padId) =>
        tokens.ne(padId).view(tokens.shape[0], 1, 1, tokens.shape[1]);

    /// <summary>Keys that are real tokens (not padding), from the sequence lengths.</summary>
    /// <param name="lengths"><c>[batch]</c> lengths, each ≤ <paramref name="time"/>.</param>
    /// <returns><c>[batch, 1, 1, time]</c>: true at positions &lt; length.</returns>
    public static Tensor PaddingFromLengths(Tensor lengths, long time)
    {
        var positions = torch.arange(time, device: lengths.device).view(1, time);
        return positions.lt(lengths.view(-1, 1)).view(lengths.shape[0], 1, 1, time);
    }

    /// <summary>Both conditions must hold: a key is attended only if every mask allows it. Shapes broadcast.</summary>
    public static Tensor Combine(Tensor a, Tensor b) => a.logical_and(b);

    /// <summary>A decoder's self-attention mask: causal and not padding.</summary>
    /// <param name="targetTokens"><c>[batch, time]</c> decoder input ids.</param>
    /// <returns><c>[batch, 1, time, time]</c>.</returns>
    public static Tensor Decoder(Tensor targetTokens, long padId)
    {
        using var causal = Causal(targetTokens.shape[1], targetTokens.device);
        using var padding = Padding(targetTokens, padId);
        return Combine(causal, padding);
    }
}
