using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// The training objective's readings on a split with the gold context fed — the teacher-forced prefix, or the NAT's gold
/// length: what dev.csv's loss and token accuracy report at each evaluation. Training's, since they are its loss.
/// </summary>
public static class GoldContextReadings
{
    /// <summary>
    /// Mean cross-entropy (no smoothing) and next-token accuracy with the gold prefix fed: what the model does when
    /// it never sees its own mistakes.
    /// </summary>
    public static (double Loss, double TokenAccuracy) TeacherForced(SequenceToSequence model, IReadOnlyList<Example> examples,
        Vocabulary source, Vocabulary target, Device device, int batchSize = 256) =>
        Scored(model, examples, source, target, device, batchSize, batch => (model.forward(batch.Source, batch.TargetInput), batch.TargetOutput), model.CopyVocabulary);

    /// <summary>
    /// A NAT's counterpart of <see cref="TeacherForced"/>: cross-entropy and accuracy of the one-shot pass (every position
    /// unknown) at the gold length, the length classifier left out.
    /// </summary>
    public static (double Loss, double TokenAccuracy) GoldLength(NonAutoregressiveTransformer model, IReadOnlyList<Example> examples,
        Vocabulary source, Vocabulary target, Device device, int batchSize = 256) =>
        Scored(model, examples, source, target, device, batchSize, batch =>
        {
            var (memory, mask) = model.Encode(batch.Source);
            var (tokens, labels) = NonAutoregressiveObjective.Targets(model.Config, batch, NatMasking.All);
            return (model.Decode(tokens, batch.Source, memory, mask), labels);
        });

    /// <summary>Loss and accuracy of <paramref name="pass"/>'s logits <c>[batch, time, vocabulary]</c> against its labels <c>[batch, time]</c> (PAD = not scored).</summary>
    static (double Loss, double TokenAccuracy) Scored(nn.Module model, IReadOnlyList<Example> examples, Vocabulary source, Vocabulary target,
        Device device, int batchSize, Func<Batch, (Tensor Logits, Tensor Labels)> pass, ExtendedVocabulary? copy = null) => DecodingCommon.Inference(model, () =>
    {
        double lossSum = 0;
        long tokens = 0, correct = 0;
        foreach (var indices in Batching.InOrder(examples.Select(e => e.Source).ToList(), batchSize))
        {
            using var scope = NewDisposeScope();
            using var batch = Batching.Make(examples, indices, source, target, device, copy);
            var (logits, labels) = pass(batch);
            var real = labels.ne(Vocabulary.Pad);
            var count = real.sum().item<long>();
            lossSum += LabelSmoothedCrossEntropy.Loss(logits, labels, 0, Vocabulary.Pad).item<float>() * count;
            correct += logits.argmax(-1).eq(labels).logical_and(real).sum().item<long>();
            tokens += count;
        }
        return (lossSum / Math.Max(1, tokens), (double)correct / Math.Max(1, tokens));
    });

}
