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
            using var scope = NewDisposeScope();
            var (memory, mask) = model.Encode(source);
            var (lengths, k) = LengthCandidates(model, source, memory, mask, options.LengthBeam);
            var rows = new CandidateRows(model, source, memory, mask, lengths, k, keepLengths: options.Iterations > 1);
            var (tokens, confidence, scores) = MaskPredict(rows, options.Iterations);
            return BestCandidates(model.Config, rows, tokens, confidence, scores);
        });
    }

    /// <summary>
    /// Mask-predict over every candidate row at once: predict every position, then for iterations t = 1 … T−1 re-mask the
    /// n = ⌊L·(T−t)/T⌋ least confident tokens of each row and predict them again with the rest visible, keeping a new token
    /// only where it is at least as probable as the old. T = 1 is the one-shot NAT.
    /// </summary>
    /// <returns>tokens and their log-probabilities <c>[rows, width]</c>, and each row's Σ log p after every iteration.</returns>
    static (Tensor Tokens, Tensor Confidence, List<double[]> Scores) MaskPredict(CandidateRows rows, int iterations)
    {
        var (confidence, tokens) = rows.Predict(rows.Placeholders);
        var scores = new List<double[]>();
        for (int t = 1; t < iterations; t++)
        {
            scores.Add(RowSums(confidence.cpu().data<double>().ToArray(), rows.Width));
            var remask = (rows.Length! * (iterations - t)).div(iterations, rounding_mode: RoundingMode.floor); // n per row
            var rank = rows.HidingBeyond(confidence, double.PositiveInfinity).argsort(1).argsort(1);          // 0 = least confident
            var masked = rows.WithinLength(rank.lt(remask.unsqueeze(1)));
            var (newConfidence, newTokens) = rows.Predict(torch.where(masked, rows.Placeholders, tokens));
            var better = masked.logical_and(newConfidence.ge(confidence));
            tokens = torch.where(better, newTokens, tokens);
            confidence = torch.where(better, newConfidence, confidence);
        }
        scores.Add(RowSums(confidence.cpu().data<double>().ToArray(), rows.Width));
        return (tokens, confidence, scores);
    }

    /// <summary>
    /// The k output lengths each source is decoded at (k = <paramref name="lengthBeam"/>, or fewer when fewer lengths are
    /// valid): the most probable classes of the length predictor, ranked on the host after one transfer — a few numbers
    /// per source. <see cref="LengthPrediction.CutAtEos"/> has no predictor: one candidate of the longest output.
    /// </summary>
    /// <returns>the lengths <c>[batch · k]</c>, source-major, and k.</returns>
    static (long[] Lengths, int K) LengthCandidates(NonAutoregressiveTransformer model, Tensor source, Tensor memory, Tensor mask, int lengthBeam)
    {
        var config = model.Config;
        var batch = (int)source.shape[0];
        if (config.Length == LengthPrediction.CutAtEos) return (Enumerable.Repeat((long)config.MaxTargetLength, batch).ToArray(), 1);
        var sourceLengths = source.ne(Vocabulary.Pad).sum([1L]).cpu().data<long>().ToArray();
        var classes = config.LengthClasses;
        var logits = model.LengthLogits(memory, mask).to(ScalarType.Float32).cpu().data<float>().ToArray();
        var ranked = Enumerable.Range(0, batch).Select(b => Enumerable.Range(0, classes)
            .Select(c => (Length: model.LengthOf(c, sourceLengths[b]), Logit: logits[b * classes + c]))
            .Where(x => x.Length is not null).OrderByDescending(x => x.Logit).Select(x => x.Length!.Value).ToList()).ToList();
        var k = Math.Max(1, Math.Min(lengthBeam, ranked.Min(r => r.Count))); // no more candidates than valid lengths
        // a source no class fits (an offset model's source far longer than any output) gets the longest output
        return (ranked.SelectMany(r => r.Count == 0 ? new[] { (long)config.MaxTargetLength } : r.Take(k)).ToArray(), k);
    }

    /// <summary>
    /// The decoder's rows: one per source and length candidate, each as wide as the longest candidate, and the one-pass
    /// prediction over them. The latency shortcuts live here, not in the loop — at batch 1 the arithmetic is microseconds and
    /// every LibTorch call costs a few: no row copies for a single candidate, no padding mask when every row fills the width.
    /// </summary>
    sealed class CandidateRows
    {
        readonly NonAutoregressiveTransformer model;
        readonly Tensor source, memory, mask, banned;
        /// <summary><c>[rows, width]</c>: true at positions beyond a row's length; null when every row fills the width.</summary>
        readonly Tensor? beyond;

        public long[] Lengths { get; }
        public int K { get; }
        public long Width { get; }
        /// <summary><c>[rows]</c> each row's length; null when no one asks (one pass over rows of one length).</summary>
        public Tensor? Length { get; }
        /// <summary><c>[rows, width]</c>: every position unknown (the placeholder), PAD beyond each row's length.</summary>
        public Tensor Placeholders { get; }

        public CandidateRows(NonAutoregressiveTransformer model, Tensor source, Tensor memory, Tensor mask, long[] lengths, int k, bool keepLengths)
        {
            (this.model, Lengths, K, Width) = (model, lengths, k, lengths.Max());
            var device = source.device;
            (this.source, this.memory, this.mask) = (source, memory, mask);
            if (k > 1)
            {
                var expand = torch.arange(source.shape[0], device: device).repeat_interleave(k);
                (this.source, this.memory, this.mask) = (source.index_select(0, expand), memory.index_select(0, expand), mask.index_select(0, expand));
            }
            var ragged = lengths.Any(l => l < Width);
            Length = ragged || keepLengths ? torch.tensor(lengths, device: device) : null;
            beyond = ragged ? torch.arange(Width, device: device).unsqueeze(0).ge(Length!.unsqueeze(1)) : null;
            banned = BannedTokens(model.Config, device);
            Placeholders = torch.full([lengths.Length, Width], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64, device: device);
            if (beyond is not null) Placeholders = Placeholders.masked_fill(beyond, Vocabulary.Pad);
        }

        /// <summary>One decoder pass over <paramref name="input"/> <c>[rows, width]</c>: each position's most probable allowed token and its log-probability (0 and PAD beyond a row's length).</summary>
        public (Tensor Confidence, Tensor Token) Predict(Tensor input)
        {
            var logProbs = model.Decode(input, source, memory, mask).masked_fill(banned, double.NegativeInfinity).log_softmax(-1);
            var (confidence, token) = logProbs.max(-1);
            confidence = confidence.to(ScalarType.Float64);
            return beyond is null ? (confidence, token) : (confidence.masked_fill(beyond, 0), token.masked_fill(beyond, Vocabulary.Pad));
        }

        /// <summary><paramref name="values"/> with <paramref name="fill"/> beyond each row's length.</summary>
        public Tensor HidingBeyond(Tensor values, double fill) => beyond is null ? values : values.masked_fill(beyond, fill);

        /// <summary><paramref name="positions"/> restricted to within each row's length.</summary>
        public Tensor WithinLength(Tensor positions) => beyond is null ? positions : positions.logical_and(beyond.logical_not());
    }

    /// <summary>
    /// Each source's best candidate by average token log-probability. <see cref="LengthPrediction.CutAtEos"/>: the output
    /// and its score end at the first EOS (EOS counted, as autoregressive decoding counts it).
    /// </summary>
    static NatOutput BestCandidates(NonAutoregressiveConfig config, CandidateRows rows, Tensor tokens, Tensor confidence, List<double[]> scores)
    {
        var cutAtEos = config.Length == LengthPrediction.CutAtEos;
        var allTokens = tokens.cpu().data<long>().ToArray();
        var allConfidence = confidence.cpu().data<double>().ToArray();
        var width = (int)rows.Width;
        var hypotheses = new List<Hypothesis>();
        var chosenLengths = new List<int>();
        for (int b = 0; b < rows.Lengths.Length / rows.K; b++)
        {
            Hypothesis? best = null;
            int bestLength = 0;
            for (int c = 0; c < rows.K; c++)
            {
                int row = b * rows.K + c, length = (int)rows.Lengths[row];
                var rowTokens = allTokens[(row * width)..(row * width + length)];
                int end = cutAtEos ? Array.IndexOf(rowTokens, (long)Vocabulary.Eos) is var e and >= 0 ? e + 1 : length : length;
                var logProbability = allConfidence.AsSpan(row * width, end).ToArray().Sum();
                var candidate = new Hypothesis(DecodingCommon.UntilEos(rowTokens[..end]), logProbability, logProbability / Math.Max(1, end), !cutAtEos || end < length || rowTokens[end - 1] == Vocabulary.Eos);
                if (best is null || candidate.Score > best.Score) (best, bestLength) = (candidate, cutAtEos ? candidate.Tokens.Length : length);
            }
            hypotheses.Add(best!);
            chosenLengths.Add(bestLength);
        }
        return new NatOutput(hypotheses, chosenLengths, scores);
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
