using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>
/// The exact answer beam search approximates: scores every output of up to <c>maxLength</c> tokens (EOS included)
/// with one teacher-forced pass each and returns the most probable. Exponential in the length: for tiny
/// vocabularies, as the reference in tests and in the decoding notebook.
/// </summary>
public static class ExhaustiveSearch
{
    /// <param name="source"><c>[1, source time]</c></param>
    public static Hypothesis Best(SequenceToSequence model, Tensor source, int maxLength)
    {
        if (source.shape[0] != 1) throw new ArgumentException("Exhaustive search takes one source ([1, source time]).");
        var symbols = Enumerable.Range(0, (int)model.TargetVocabulary)
            .Where(i => i is not Vocabulary.Pad and not Vocabulary.Bos and not Vocabulary.Eos).Select(i => (long)i).ToArray();
        var outputs = new List<long[]>();
        void Enumerate(List<long> prefix)
        {
            if (prefix.Count < maxLength) outputs.Add([.. prefix, Vocabulary.Eos]);
            if (prefix.Count == maxLength) { outputs.Add([.. prefix]); return; } // unfinished at the limit, as beam search keeps it
            foreach (var s in symbols) { prefix.Add(s); Enumerate(prefix); prefix.RemoveAt(prefix.Count - 1); }
        }
        Enumerate([]);
        return DecodingCommon.Inference(model, () =>
        {
            using var scope = NewDisposeScope();
            var encoded = model.Encode(source);
            Hypothesis? best = null;
            foreach (var output in outputs)
            {
                using var inner = NewDisposeScope();
                var input = torch.tensor((long[])[Vocabulary.Bos, .. output[..^1]], [1, output.Length]);
                var logProbs = DecodingCommon.NextTokenLogProbabilities(model.Decode(input, encoded).squeeze(0)).to(ScalarType.Float64);
                var score = logProbs.gather(1, torch.tensor(output).unsqueeze(1)).sum().item<double>();
                if (best is null || score > best.Score)
                    best = new Hypothesis(DecodingCommon.UntilEos(output), score, score, output[^1] == Vocabulary.Eos);
            }
            return best!;
        });
    }

    /// <summary>
    /// Search errors (Stahlberg &amp; Byrne 2019): for each beam size, the share of sources whose beam-search output is
    /// less probable under the model than the exhaustive optimum, and the log-probability lost on average over sources.
    /// Length penalty 0, so both rank by the same score.
    /// </summary>
    /// <param name="sources"><c>[count, source time]</c>, one exhaustive search each.</param>
    public static IReadOnlyList<SearchErrorReport> SearchErrors(SequenceToSequence model, Tensor sources, IReadOnlyList<int> beamSizes, int maxLength)
    {
        var count = (int)sources.shape[0];
        var optimum = Enumerable.Range(0, count).Select(i => { using var s = sources.narrow(0, i, 1); return Best(model, s, maxLength).LogProbability; }).ToArray();
        return beamSizes.Select(size =>
        {
            var found = BeamSearch.Decode(model, sources, new BeamOptions(size), maxLength).Select(n => n[0].LogProbability).ToArray();
            var lost = found.Zip(optimum, (f, o) => Math.Max(0, o - f)).ToArray();
            return new SearchErrorReport(size, lost.Count(l => l > 1e-4) / (double)count, lost.Average(), count);
        }).ToList();
    }
}

/// <summary>How often a beam of <see cref="BeamSize"/> missed the most probable output, and by how much log-probability on average.</summary>
public sealed record SearchErrorReport(int BeamSize, double ErrorRate, double MeanLogProbabilityLost, int Sources);
