using TorchSharp;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>How to sample: temperature scales the logits; top-k keeps the k most probable tokens; top-p (nucleus,
/// Holtzman et al. 2020) keeps the smallest set whose probability reaches p. 0 switches k and p off.</summary>
public sealed record SamplingOptions(double Temperature = 1.0, int TopK = 0, double TopP = 0, long Seed = 1)
{
    public void Validate()
    {
        if (Temperature <= 0) throw new ArgumentException($"temperature must be positive (got {Temperature}); use greedy decoding for temperature → 0.");
        if (TopK < 0) throw new ArgumentException($"top-k must be ≥ 0 (got {TopK}).");
        if (TopP is < 0 or > 1) throw new ArgumentException($"top-p must be in [0, 1] (got {TopP}).");
    }
}

/// <summary>Ancestral sampling with temperature, top-k and top-p; batched, seeded by its own generator.</summary>
public static class Sampling
{
    public static IReadOnlyList<Hypothesis> Decode(SequenceToSequence model, Tensor source, SamplingOptions options, int? maxLength = null)
    {
        options.Validate();
        using var generator = new Generator((ulong)options.Seed, source.device);
        return Greedy.Run(model, source, maxLength, useCache: true,
            logProbs => Filter(logProbs, options).exp().multinomial(1, generator: generator).squeeze(1), options.Temperature);
    }

    /// <summary>Log-probabilities <c>[batch, vocabulary]</c> with everything outside top-k and the top-p nucleus set to −∞.</summary>
    public static Tensor Filter(Tensor logProbs, SamplingOptions options)
    {
        var filtered = logProbs;
        if (options.TopK > 0 && options.TopK < logProbs.shape[^1])
        {
            var kth = logProbs.topk(options.TopK, -1).values.select(-1, -1).unsqueeze(-1);
            filtered = filtered.masked_fill(filtered.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP > 0 && options.TopP < 1)
        {
            var (sorted, order) = filtered.sort(-1, descending: true);
            var cumulative = sorted.exp().cumsum(-1);
            // drop a token when the tokens before it already reach p; the most probable token always stays
            var drop = (cumulative - sorted.exp()).ge(options.TopP);
            var dropInPlace = torch.zeros_like(drop).scatter(-1, order, drop);
            filtered = filtered.masked_fill(dropInPlace, double.NegativeInfinity);
        }
        return filtered.log_softmax(-1);
    }
}
