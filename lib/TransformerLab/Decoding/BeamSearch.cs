using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>
/// Beam search settings. Hypotheses are ranked at the end by log P / lp(length) with the length penalty of
/// Wu et al. (2016), lp = ((5 + length) / 6)^α: α = 0 ranks by raw log-probability (which favours short outputs),
/// α ≈ 1 by roughly the per-token average.
/// </summary>
public sealed record BeamOptions(int BeamSize = 5, double LengthPenalty = 0, int NBest = 1)
{
    public void Validate()
    {
        if (BeamSize < 1) throw new ArgumentException($"beam size must be at least 1 (got {BeamSize}).");
        if (NBest < 1 || NBest > BeamSize) throw new ArgumentException($"n-best must be between 1 and the beam size {BeamSize} (got {NBest}).");
        if (LengthPenalty < 0) throw new ArgumentException($"length penalty α must be ≥ 0 (got {LengthPenalty}).");
    }

    /// <summary>The score a finished hypothesis is ranked by.</summary>
    public double Score(double logProbability, int length) =>
        LengthPenalty == 0 ? logProbability : logProbability / Math.Pow((5.0 + length) / 6.0, LengthPenalty);
}

/// <summary>
/// Batched beam search over the key/value cache. Each source keeps <see cref="BeamOptions.BeamSize"/> hypotheses;
/// every step extends each by every token and keeps the best. A hypothesis that produced EOS stays in the beam
/// with its score frozen (it can only be extended by PAD at no cost), so it competes with the open ones until all
/// are finished or the length limit is reached.
/// </summary>
public static class BeamSearch
{
    /// <param name="source"><c>[batch, source time]</c></param>
    /// <returns>for each source, its n-best hypotheses, best first.</returns>
    public static IReadOnlyList<IReadOnlyList<Hypothesis>> Decode(SequenceToSequence model, Tensor source, BeamOptions options, int? maxLength = null, bool useCache = true)
    {
        options.Validate();
        return DecodingCommon.Inference(model, rows: source.shape[0] * options.BeamSize, body: () =>
        {
            using var scope = NewDisposeScope();
            int limit = maxLength ?? DecodingCommon.MaxLength(model, source);
            long batch = source.shape[0], beam = options.BeamSize;
            var device = source.device;
            var expand = torch.arange(batch, device: device).repeat_interleave(beam);
            using var steps = DecoderSteps.Create(model, model.Encode(source).Rows(expand), useCache);

            // only the first copy of each beam is alive at the start, so the first step does not pick one token K times
            var scores = torch.full([batch, beam], double.NegativeInfinity, dtype: ScalarType.Float64, device: device);
            scores[.., 0] = 0;
            var finished = torch.zeros([batch, beam], dtype: ScalarType.Bool, device: device);
            var lengths = torch.zeros([batch, beam], dtype: ScalarType.Int64, device: device);
            var sequences = torch.empty([batch, beam, 0], dtype: ScalarType.Int64, device: device);
            var tokens = torch.full(batch * beam, Vocabulary.Bos, dtype: ScalarType.Int64, device: device);
            Tensor? frozen = null; // a finished hypothesis may only continue with PAD, at log-probability 0

            for (int t = 0; t < limit; t++)
            {
                var logits = steps.Next(tokens);
                var vocabulary = logits.shape[^1]; // the target vocabulary, or a copying model's extended one
                if (frozen is null)
                {
                    frozen = torch.full(vocabulary, double.NegativeInfinity, dtype: ScalarType.Float64, device: device);
                    frozen[Vocabulary.Pad] = 0;
                }
                var logProbs = DecodingCommon.NextTokenLogProbabilities(logits).to(ScalarType.Float64).view(batch, beam, vocabulary);
                logProbs = torch.where(finished.unsqueeze(-1), frozen.view(1, 1, vocabulary), logProbs);
                var candidates = (scores.unsqueeze(-1) + logProbs).view(batch, beam * vocabulary);
                var (best, index) = candidates.topk((int)beam, -1);
                var parent = index.div(vocabulary, rounding_mode: RoundingMode.floor);
                var token = index.remainder(vocabulary);

                var rows = (torch.arange(batch, device: device).unsqueeze(1) * beam + parent).view(-1);
                steps.Reorder(rows);
                sequences = torch.cat([sequences.view(batch * beam, -1).index_select(0, rows).view(batch, beam, -1), token.unsqueeze(-1)], -1);
                var wasFinished = finished.gather(1, parent);
                lengths = lengths.gather(1, parent) + wasFinished.logical_not().to(ScalarType.Int64);
                finished = wasFinished.logical_or(token.eq(Vocabulary.Eos));
                scores = best;
                tokens = token.view(-1);
                if (finished.all().item<bool>()) break;
            }

            var width = (int)sequences.shape[2];
            var allTokens = sequences.cpu().data<long>().ToArray();
            var allScores = scores.cpu().data<double>().ToArray();
            var allLengths = lengths.cpu().data<long>().ToArray();
            var allFinished = finished.cpu().data<bool>().ToArray();
            var results = new List<IReadOnlyList<Hypothesis>>();
            for (int b = 0; b < batch; b++)
            {
                var hypotheses = new List<Hypothesis>();
                for (int k = 0; k < beam; k++)
                {
                    int i = b * (int)beam + k;
                    if (double.IsNegativeInfinity(allScores[i])) continue;
                    var row = allTokens[(i * width)..((i + 1) * width)];
                    hypotheses.Add(new Hypothesis(DecodingCommon.UntilEos(row), allScores[i], options.Score(allScores[i], (int)allLengths[i]), allFinished[i]));
                }
                results.Add(hypotheses.OrderByDescending(h => h.Score).Take(options.NBest).ToList());
            }
            return (IReadOnlyList<IReadOnlyList<Hypothesis>>)results;
        });
    }
}
