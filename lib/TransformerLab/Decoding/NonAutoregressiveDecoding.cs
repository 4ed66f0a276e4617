using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>
/// How a NAT decodes. <see cref="LengthBeam"/> = 1 and <see cref="Iterations"/> = 1 is the one-shot NAT: argmax of
/// every position at the most probable length. A length beam decodes the k most probable lengths in parallel and
/// keeps the output with the highest average token log-probability (Ghazvininejad et al. 2019's length candidates;
/// Gu et al. rescore with the teacher instead). More iterations run mask-predict.
/// </summary>
public sealed record NatDecodeOptions(int LengthBeam = 1, int Iterations = 1)
{
    public void Validate()
    {
        if (LengthBeam < 1) throw new ArgumentException($"length beam must be at least 1 (got {LengthBeam}).");
        if (Iterations < 1) throw new ArgumentException($"iterations must be at least 1 (got {Iterations}).");
    }

    public override string ToString() => $"NAT, length beam {LengthBeam}, {Iterations} iteration{(Iterations == 1 ? "" : "s")}";
}

/// <summary>What a NAT decoded: the chosen output per source, its length, and every candidate's score after each iteration.</summary>
/// <param name="Lengths">the chosen output's decoder length per source (for <see cref="LengthPrediction.CutAtEos"/>: up to the first EOS).</param>
/// <param name="ScoreByIteration">[iteration][source × length candidate]: Σ log p of the candidate's tokens after that iteration.</param>
public sealed record NatOutput(IReadOnlyList<Hypothesis> Hypotheses, IReadOnlyList<int> Lengths, IReadOnlyList<double[]> ScoreByIteration);

/// <summary>
/// Parallel decoding of a <see cref="NonAutoregressiveTransformer"/>: one decoder pass per iteration for all positions,
/// however long the output. Mask-predict (Ghazvininejad et al. 2019): after the first pass, iteration t of T re-masks
/// the n = ⌊L·(T−t)/T⌋ least confident tokens and predicts them again with the rest visible. One change to the paper:
/// a re-predicted token replaces the old one only if it is at least as probable, so an output's score Σ log p never
/// falls from one iteration to the next (the paper replaces unconditionally; both keep the most confident tokens).
/// </summary>
public static class NonAutoregressiveDecoding
{
    /// <param name="source"><c>[batch, source time]</c></param>
    public static NatOutput Decode(NonAutoregressiveTransformer model, Tensor source, NatDecodeOptions? options = null)
    {
        options ??= new NatDecodeOptions();
        options.Validate();
        // one pass computes every position of every candidate at once: those are the rows its products have
        return DecodingCommon.Inference(model, rows: source.shape[0] * options.LengthBeam * model.Config.MaxTargetLength, body: () =>
        {
            // At batch 1 the arithmetic is microseconds and every LibTorch call costs a few: what follows spends calls
            // only where the answer needs them (lengths chosen on the host, no row copies for a single candidate, no
            // padding masks when every candidate has the same length).
            using var scope = NewDisposeScope();
            var config = model.Config;
            var cutAtEos = config.Length == LengthPrediction.CutAtEos;
            long batch = source.shape[0];
            var device = source.device;
            var (memory, mask) = model.Encode(source);

            // candidate lengths, k per source: a few numbers per source, chosen on the host after one transfer each
            long[] candidateLengths; // [batch · k], source-major
            int k;
            if (cutAtEos)
            {
                k = 1;
                candidateLengths = Enumerable.Repeat((long)config.MaxTargetLength, (int)batch).ToArray();
            }
            else
            {
                var sourceLengths = source.ne(Vocabulary.Pad).sum([1L]).cpu().data<long>().ToArray();
                var classes = config.LengthClasses;
                var logits = model.LengthLogits(memory, mask).to(ScalarType.Float32).cpu().data<float>().ToArray();
                var ranked = Enumerable.Range(0, (int)batch).Select(b => Enumerable.Range(0, classes)
                    .Select(c => (Length: model.LengthOf(c, sourceLengths[b]), Logit: logits[b * classes + c]))
                    .Where(x => x.Length is not null).OrderByDescending(x => x.Logit).Select(x => x.Length!.Value).ToList()).ToList();
                k = Math.Max(1, Math.Min(options.LengthBeam, ranked.Min(r => r.Count))); // no more candidates than valid lengths
                // a source no class fits (an offset model's source far longer than any output) gets the longest output
                candidateLengths = ranked.SelectMany(r => r.Count == 0 ? new[] { (long)config.MaxTargetLength } : r.Take(k)).ToArray();
            }

            var width = candidateLengths.Max();
            var (rowSource, rowMemory, rowMask) = (source, memory, mask);
            if (k > 1)
            {
                var expand = torch.arange(batch, device: device).repeat_interleave(k);
                (rowSource, rowMemory, rowMask) = (source.index_select(0, expand), memory.index_select(0, expand), mask.index_select(0, expand));
            }
            var rowLength = candidateLengths.Any(l => l < width) || options.Iterations > 1 ? torch.tensor(candidateLengths, device: device) : null;
            // [rows, width]: positions beyond each row's length; null when every row fills the width
            var beyond = candidateLengths.All(l => l == width) ? null : torch.arange(width, device: device).unsqueeze(0).ge(rowLength!.unsqueeze(1));
            var banned = BannedTokens(config, device);

            (Tensor Confidence, Tensor Token) Predict(Tensor input)
            {
                var logProbs = model.Decode(input, rowSource, rowMemory, rowMask).masked_fill(banned, double.NegativeInfinity).log_softmax(-1);
                var (confidence, token) = logProbs.max(-1);
                confidence = confidence.to(ScalarType.Float64);
                return beyond is null ? (confidence, token) : (confidence.masked_fill(beyond, 0), token.masked_fill(beyond, Vocabulary.Pad));
            }

            var placeholders = torch.full([candidateLengths.Length, width], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64, device: device);
            if (beyond is not null) placeholders = placeholders.masked_fill(beyond, Vocabulary.Pad);
            var (conf, tokens) = Predict(placeholders);
            var scores = new List<double[]>();
            for (int t = 1; t < options.Iterations; t++)
            {
                scores.Add(RowSums(conf.cpu().data<double>().ToArray(), width));
                var remask = (rowLength! * (options.Iterations - t)).div(options.Iterations, rounding_mode: RoundingMode.floor);
                var rank = (beyond is null ? conf : conf.masked_fill(beyond, double.PositiveInfinity)).argsort(1).argsort(1);
                var masked = rank.lt(remask.unsqueeze(1));
                if (beyond is not null) masked = masked.logical_and(beyond.logical_not());
                var (newConf, newTokens) = Predict(torch.where(masked, placeholders, tokens));
                var better = masked.logical_and(newConf.ge(conf));
                tokens = torch.where(better, newTokens, tokens);
                conf = torch.where(better, newConf, conf);
            }

            var allTokens = tokens.cpu().data<long>().ToArray();
            var allConf = conf.cpu().data<double>().ToArray();
            scores.Add(RowSums(allConf, width));
            var hypotheses = new List<Hypothesis>();
            var chosenLengths = new List<int>();
            for (int b = 0; b < batch; b++)
            {
                Hypothesis? best = null;
                int bestLength = 0;
                for (int c = 0; c < k; c++)
                {
                    int row = b * k + c, length = (int)candidateLengths[row];
                    var rowTokens = allTokens[(row * (int)width)..(row * (int)width + length)];
                    // CutAtEos: the output and its score end at the first EOS (EOS counted, as autoregressive decoding counts it)
                    int end = cutAtEos ? Array.IndexOf(rowTokens, (long)Vocabulary.Eos) is var e and >= 0 ? e + 1 : length : length;
                    var logProbability = allConf.AsSpan(row * (int)width, end).ToArray().Sum();
                    var candidate = new Hypothesis(DecodingCommon.UntilEos(rowTokens[..end]), logProbability, logProbability / Math.Max(1, end), !cutAtEos || end < length || rowTokens[end - 1] == Vocabulary.Eos);
                    if (best is null || candidate.Score > best.Score) (best, bestLength) = (candidate, cutAtEos ? candidate.Tokens.Length : length);
                }
                hypotheses.Add(best!);
                chosenLengths.Add(bestLength);
            }
            return new NatOutput(hypotheses, chosenLengths, scores);
        });
    }

    /// <summary>Σ log p of each row of a <c>[rows, width]</c> confidence matrix read back to the host.</summary>
    static double[] RowSums(double[] confidence, long width) =>
        Enumerable.Range(0, (int)(confidence.Length / width)).Select(r => confidence.AsSpan(r * (int)width, (int)width).ToArray().Sum()).ToArray();

    /// <summary>
    /// Tokens a NAT never outputs, as one <c>[target vocabulary]</c> mask made in one call: PAD, the placeholder (BOS), and
    /// EOS when the length is predicted (it is then given, not an output).
    /// </summary>
    static Tensor BannedTokens(NonAutoregressiveConfig config, Device device)
    {
        var banned = new bool[config.Transformer.TargetVocabulary];
        banned[Vocabulary.Pad] = banned[NonAutoregressiveTransformer.Placeholder] = true;
        if (config.Length != LengthPrediction.CutAtEos) banned[Vocabulary.Eos] = true;
        return torch.tensor(banned, device: device);
    }
}
