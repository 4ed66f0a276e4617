using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>Greedy decoding: at each step take the most probable next token. Batched; one hypothesis per source.</summary>
public static class Greedy
{
    /// <param name="source"><c>[batch, source time]</c></param>
    /// <param name="maxLength">most tokens to generate (EOS included); default <see cref="DecodingCommon.MaxLength"/>.</param>
    /// <param name="useCache">the key/value cache (true) or re-running the prefix every step (the reference).</param>
    public static IReadOnlyList<Hypothesis> Decode(SequenceToSequence model, Tensor source, int? maxLength = null, bool useCache = true) =>
        Run(model, source, maxLength, useCache, logProbs => logProbs.argmax(-1));

    /// <summary>
    /// The loop shared by greedy decoding and sampling: <paramref name="choose"/> picks each row's next token from
    /// its log-probabilities <c>[batch, vocabulary]</c>.
    /// </summary>
    internal static IReadOnlyList<Hypothesis> Run(SequenceToSequence model, Tensor source, int? maxLength, bool useCache,
        Func<Tensor, Tensor> choose, double temperature = 1.0) => DecodingCommon.Inference(model, rows: source.shape[0], body: () =>
    {
        using var scope = NewDisposeScope();
        var limit = maxLength ?? DecodingCommon.MaxLength(model, source);
        using var steps = DecoderSteps.Create(model, model.Encode(source), useCache);
        var batch = source.shape[0];
        var tokens = torch.full(batch, Vocabulary.Bos, dtype: ScalarType.Int64, device: source.device);
        var finished = torch.zeros(batch, dtype: ScalarType.Bool, device: source.device);
        var logProbability = torch.zeros(batch, dtype: ScalarType.Float64, device: source.device);
        var produced = new List<Tensor>();
        for (int t = 0; t < limit; t++)
        {
            var logProbs = DecodingCommon.NextTokenLogProbabilities(steps.Next(tokens), temperature);
            var next = choose(logProbs).masked_fill(finished, Vocabulary.Pad);
            logProbability += logProbs.gather(1, next.unsqueeze(1)).squeeze(1).to(ScalarType.Float64).masked_fill(finished, 0);
            produced.Add(next);
            finished = finished.logical_or(next.eq(Vocabulary.Eos));
            tokens = next;
            if (finished.all().item<bool>()) break;
        }
        var rows = torch.stack(produced, 1).cpu().data<long>().ToArray();
        var scores = logProbability.cpu().data<double>().ToArray();
        var done = finished.cpu().data<bool>().ToArray();
        var width = produced.Count;
        return (IReadOnlyList<Hypothesis>)Enumerable.Range(0, (int)batch).Select(b =>
            new Hypothesis(DecodingCommon.UntilEos(rows[(b * width)..((b + 1) * width)]), scores[b], scores[b], done[b])).ToList();
    });
}
