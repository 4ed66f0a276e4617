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
        return DecodingCommon.Inference(model, () =>
        {
            using var scope = NewDisposeScope();
            var config = model.Config;
            var cutAtEos = config.Length == LengthPrediction.CutAtEos;
            long batch = source.shape[0];
            var device = source.device;
            var (memory, mask) = model.Encode(source);

            // candidate lengths [batch, k]
            Tensor lengths;
            int k;
            if (cutAtEos)
            {
                k = 1;
                lengths = torch.full([batch, 1], config.MaxTargetLength, dtype: ScalarType.Int64, device: device);
            }
            else
            {
                var sourceLengths = source.ne(Vocabulary.Pad).sum([1L]);
                var logits = model.LengthLogits(memory, mask);
                var classes = torch.arange(config.LengthClasses, device: device).unsqueeze(0).expand(batch, -1);
                var raw = config.Length == LengthPrediction.Offset ? classes - config.MaxTargetLength + sourceLengths.unsqueeze(1) : classes;
                var valid = raw.ge(1).logical_and(raw.le(config.MaxTargetLength)); // classes that stand for a length of their own
                k = Math.Max(1, Math.Min(options.LengthBeam, (int)valid.sum([1L]).min().item<long>())); // no more candidates than valid lengths
                var top = logits.masked_fill(valid.logical_not(), double.NegativeInfinity).topk(k, -1).indexes;
                lengths = model.LengthOf(top, sourceLengths);
            }

            var expand = torch.arange(batch, device: device).repeat_interleave(k);
            var rowSource = source.index_select(0, expand);
            var rowMemory = memory.index_select(0, expand);
            var rowMask = mask.index_select(0, expand);
            var rowLength = lengths.reshape(-1);
            var width = rowLength.max().item<long>();
            var real = torch.arange(width, device: device).unsqueeze(0).lt(rowLength.unsqueeze(1)); // [rows, width]
            var banned = torch.zeros(model.Config.Transformer.TargetVocabulary, dtype: ScalarType.Bool, device: device);
            banned[Vocabulary.Pad] = true;
            banned[Vocabulary.Bos] = true;
            if (!cutAtEos) banned[Vocabulary.Eos] = true; // the length is given: EOS is not an output

            (Tensor Confidence, Tensor Token) Predict(Tensor input)
            {
                var logProbs = model.Decode(input, rowSource, rowMemory, rowMask).masked_fill(banned, double.NegativeInfinity).log_softmax(-1);
                var (confidence, token) = logProbs.max(-1);
                return (confidence.masked_fill(real.logical_not(), 0).to(ScalarType.Float64), token.masked_fill(real.logical_not(), Vocabulary.Pad));
            }

            var placeholders = torch.full([rowLength.shape[0], width], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64, device: device).masked_fill(real.logical_not(), Vocabulary.Pad);
            var (conf, tokens) = Predict(placeholders);
            var scores = new List<double[]> { conf.sum([1L]).cpu().data<double>().ToArray() };
            for (int t = 1; t < options.Iterations; t++)
            {
                var remask = (rowLength * (options.Iterations - t)).div(options.Iterations, rounding_mode: RoundingMode.floor);
                var rank = conf.masked_fill(real.logical_not(), double.PositiveInfinity).argsort(1).argsort(1);
                var masked = rank.lt(remask.unsqueeze(1)).logical_and(real);
                var (newConf, newTokens) = Predict(torch.where(masked, placeholders, tokens));
                var better = masked.logical_and(newConf.ge(conf));
                tokens = torch.where(better, newTokens, tokens);
                conf = torch.where(better, newConf, conf);
                scores.Add(conf.sum([1L]).cpu().data<double>().ToArray());
            }

            var allTokens = tokens.cpu().data<long>().ToArray();
            var allConf = conf.cpu().data<double>().ToArray();
            var allLengths = rowLength.cpu().data<long>().ToArray();
            var hypotheses = new List<Hypothesis>();
            var chosenLengths = new List<int>();
            for (int b = 0; b < batch; b++)
            {
                Hypothesis? best = null;
                int bestLength = 0;
                for (int c = 0; c < k; c++)
                {
                    int row = b * k + c, length = (int)allLengths[row];
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
}
