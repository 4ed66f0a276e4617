using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Evaluation;

/// <summary>Errors at one output position (0 = the first target token; the last real position predicts EOS).</summary>
/// <param name="Count">targets that reach this position.</param>
/// <param name="TeacherForcedError">share wrong when the decoder reads the gold prefix.</param>
/// <param name="FreeRunningError">share wrong when it reads its own greedy prefix.</param>
/// <param name="ErrorAfterEarlierError">free-running, among targets whose own prefix already had an error (NaN if none).</param>
/// <param name="ErrorWithoutEarlierError">free-running, among targets whose prefix so far was right (NaN if none).</param>
public sealed record PositionErrors(int Position, long Count, double TeacherForcedError, double FreeRunningError,
    double ErrorAfterEarlierError, double ErrorWithoutEarlierError);

/// <summary>Teacher-forced against free-running loss and accuracy on the same gold targets, overall and by position.</summary>
public sealed record ExposureBiasReport(double TeacherForcedLoss, double FreeRunningLoss, double TeacherForcedAccuracy,
    double FreeRunningAccuracy, IReadOnlyList<PositionErrors> ByPosition)
{
    /// <summary>How much accuracy the model loses when it must read its own predictions.</summary>
    public double AccuracyGap => TeacherForcedAccuracy - FreeRunningAccuracy;
}

/// <summary>
/// Exposure bias (Ranzato et al. 2016; Bengio et al. 2015): a model trained on gold prefixes is tested on its own.
/// Both regimes are scored against the same gold token at each position: teacher-forced reads the gold prefix;
/// free-running feeds back its own greedy choice (for exactly the target's length, so nothing stops early) and
/// is still asked for the gold token. Errors are positional, so one inserted or dropped symbol counts against
/// every later position: that derailing is what the by-position table shows.
/// </summary>
public static class ExposureBias
{
    public static ExposureBiasReport Measure(SequenceToSequence model, IReadOnlyList<Example> examples, Vocabulary source, Vocabulary target,
        Device device, int batchSize = 256) => DecodingCommon.Inference(model, () =>
    {
        var longest = examples.Max(e => e.Target.Count) + 1;
        var count = new long[longest];
        var tfWrong = new long[longest];
        var freeWrong = new long[longest];
        var (afterError, afterErrorWrong, clean, cleanWrong) = (new long[longest], new long[longest], new long[longest], new long[longest]);
        double tfLoss = 0, freeLoss = 0;
        var copy = model.CopyVocabulary;

        foreach (var indices in Batching.InOrder(examples.Select(e => e.Source).ToList(), batchSize))
        {
            using var scope = NewDisposeScope();
            using var batch = Batching.Make(examples, indices, source, target, device, copy);
            var real = batch.TargetOutput.ne(Vocabulary.Pad);                         // [batch, time]
            var gold = batch.TargetOutput.unsqueeze(-1);

            var tfLogProbs = DecodingCommon.NextTokenLogProbabilities(model.forward(batch.Source, batch.TargetInput)); // same support as free-running
            tfLoss -= tfLogProbs.gather(-1, gold).squeeze(-1).masked_select(real).sum().item<float>();
            var tfError = tfLogProbs.argmax(-1).ne(batch.TargetOutput).logical_and(real);

            var (freeLogProbs, freeChoice) = FreeRunning(model, batch.Source, batch.TargetOutput.shape[1]);
            freeLoss -= freeLogProbs.gather(-1, gold).squeeze(-1).masked_select(real).sum().item<float>();
            var freeError = freeChoice.ne(batch.TargetOutput).logical_and(real);
            // an error strictly before position t: cumulative count, shifted right by one
            var earlier = freeError.to(ScalarType.Int64).cumsum(1).sub(freeError.to(ScalarType.Int64)).gt(0);

            long[] Column(Tensor t) => t.sum(new long[] { 0 }).data<long>().ToArray(); // sum(0) would bind to sum(ScalarType.Byte)
            Accumulate(count, Column(real.to(ScalarType.Int64)));
            Accumulate(tfWrong, Column(tfError.to(ScalarType.Int64)));
            Accumulate(freeWrong, Column(freeError.to(ScalarType.Int64)));
            Accumulate(afterError, Column(earlier.logical_and(real).to(ScalarType.Int64)));
            Accumulate(afterErrorWrong, Column(earlier.logical_and(freeError).to(ScalarType.Int64)));
            Accumulate(clean, Column(earlier.logical_not().logical_and(real).to(ScalarType.Int64)));
            Accumulate(cleanWrong, Column(earlier.logical_not().logical_and(freeError).to(ScalarType.Int64)));
        }

        static double Share(long part, long whole) => whole == 0 ? double.NaN : (double)part / whole;
        var byPosition = Enumerable.Range(0, longest).Where(t => count[t] > 0).Select(t => new PositionErrors(t, count[t],
            Share(tfWrong[t], count[t]), Share(freeWrong[t], count[t]), Share(afterErrorWrong[t], afterError[t]), Share(cleanWrong[t], clean[t]))).ToList();
        long tokens = count.Sum();
        return new ExposureBiasReport(tfLoss / tokens, freeLoss / tokens, 1 - Share(tfWrong.Sum(), tokens), 1 - Share(freeWrong.Sum(), tokens), byPosition);
    });

    /// <summary>
    /// Greedy decoding for exactly <paramref name="steps"/> steps (EOS does not stop it), feeding back its own choices.
    /// </summary>
    /// <param name="source"><c>[batch, source time]</c></param>
    /// <returns>log-probabilities <c>[batch, steps, vocabulary]</c> at each step, and the choice made <c>[batch, steps]</c>.</returns>
    public static (Tensor LogProbabilities, Tensor Choices) FreeRunning(SequenceToSequence model, Tensor source, long steps)
    {
        using var scope = NewDisposeScope();
        using var state = model.StartDecoding(model.Encode(source));
        var token = torch.full(source.shape[0], Vocabulary.Bos, ScalarType.Int64, device: source.device);
        var logProbs = new List<Tensor>();
        var choices = new List<Tensor>();
        for (long t = 0; t < steps; t++)
        {
            var step = DecodingCommon.NextTokenLogProbabilities(model.DecodeStep(token, state));
            token = step.argmax(-1);
            logProbs.Add(step);
            choices.Add(token);
        }
        return (torch.stack(logProbs, 1).MoveToOuterDisposeScope(), torch.stack(choices, 1).MoveToOuterDisposeScope());
    }

    static void Accumulate(long[] into, long[] add)
    {
        for (int i = 0; i < add.Length; i++) into[i] += add[i];
    }
}
