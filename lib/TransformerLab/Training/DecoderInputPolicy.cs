using System.Text.Json.Serialization;
using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

public enum DecoderInputKind
{
    /// <summary>The decoder reads the gold prefix (BOS + target), as the paper trains.</summary>
    TeacherForcing,
    /// <summary>Each gold input token is kept with probability ε_i and replaced by the model's own prediction otherwise
    /// (Bengio et al. 2015), with two decoder passes for the Transformer (Mihaylova &amp; Martins 2019).</summary>
    ScheduledSampling,
}

/// <summary>
/// What the decoder reads during training. Teacher forcing feeds the gold prefix; the gap between that and
/// decoding from its own predictions is exposure bias, and scheduled sampling mixes the two.
/// </summary>
public interface IDecoderInputPolicy
{
    /// <param name="step">the optimiser step (from 1), for policies that change over training.</param>
    /// <param name="batch">the batch, with the gold <see cref="Batch.TargetInput"/> <c>[batch, target time]</c>.</param>
    /// <returns>the decoder input <c>[batch, target time]</c>.</returns>
    Tensor DecoderInput(SequenceToSequence model, Batch batch, EncodedSource source, long step);
}

public sealed class TeacherForcing : IDecoderInputPolicy
{
    public Tensor DecoderInput(SequenceToSequence model, Batch batch, EncodedSource source, long step) => batch.TargetInput;
}

/// <summary>Which of the model's predictions replace gold tokens.</summary>
public enum PredictionChoice
{
    /// <summary>The most probable token.</summary>
    Argmax,
    /// <summary>A token drawn from the model's distribution (Bengio et al. sample; Mihaylova &amp; Martins compare both).</summary>
    Sample,
}

/// <summary>
/// Scheduled sampling for the Transformer, which has no step-by-step training loop to feed predictions into:
/// pass 1 decodes the whole target from the gold inputs without gradient; pass 2 (the training pass the loss is
/// taken on) reads, at each position, the gold token with probability ε_i or pass 1's prediction for that position.
/// Pass 1 runs in the model's current (training) mode, dropout included.
/// </summary>
public sealed class ScheduledSampling(TeacherForcingSchedule schedule, PredictionChoice choice = PredictionChoice.Argmax) : IDecoderInputPolicy
{
    public TeacherForcingSchedule Schedule { get; } = schedule;
    public PredictionChoice Choice { get; } = choice;

    public Tensor DecoderInput(SequenceToSequence model, Batch batch, EncodedSource source, long step)
    {
        using var scope = NewDisposeScope();
        using var logits = FirstPass(model, batch.TargetInput, source);
        return Mix(batch.TargetInput, Predict(logits, Choice), Schedule.Epsilon(step)).MoveToOuterDisposeScope();
    }

    /// <summary>Pass 1: the teacher-forced decoder output, computed without gradient.</summary>
    /// <returns>logits <c>[batch, target time, vocabulary]</c>, not part of any autograd graph.</returns>
    public static Tensor FirstPass(SequenceToSequence model, Tensor targetInput, EncodedSource source)
    {
        using var _ = torch.no_grad();
        return model.Decode(targetInput, source);
    }

    /// <summary>The token each position predicts: <c>[batch, time, vocabulary]</c> → <c>[batch, time]</c>.</summary>
    public static Tensor Predict(Tensor logits, PredictionChoice choice)
    {
        if (choice == PredictionChoice.Argmax) return logits.argmax(-1);
        using var scope = NewDisposeScope();
        var flat = logits.reshape(-1, logits.shape[^1]).softmax(-1);
        return torch.multinomial(flat, 1).reshape(logits.shape[0], logits.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pass 2's input. Position t ≥ 1 reads the gold token (<paramref name="gold"/>[t] = target[t-1]) with probability
    /// <paramref name="epsilon"/>, else the prediction made at position t-1. BOS and padding are never replaced.
    /// </summary>
    /// <param name="gold"><c>[batch, time]</c>: BOS + target, padded.</param>
    /// <param name="predicted"><c>[batch, time]</c>: pass 1's prediction at each position.</param>
    public static Tensor Mix(Tensor gold, Tensor predicted, double epsilon)
    {
        using var scope = NewDisposeScope();
        var shifted = torch.cat([gold.narrow(1, 0, 1), predicted.narrow(1, 0, predicted.shape[1] - 1)], 1);
        var keep = torch.rand(gold.shape, device: gold.device).lt(epsilon);
        keep = keep.logical_or(gold.eq(Vocabulary.Pad)).logical_or(gold.eq(Vocabulary.Bos));
        return torch.where(keep, gold, shifted).MoveToOuterDisposeScope();
    }
}

public static class DecoderInputPolicies
{
    public static IDecoderInputPolicy Create(DecoderInputSettings settings) => settings.Kind switch
    {
        DecoderInputKind.TeacherForcing => new TeacherForcing(),
        DecoderInputKind.ScheduledSampling => new ScheduledSampling(TeacherForcingSchedule.From(settings), settings.SamplingPredictions),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "unknown decoder input policy"),
    };
}

/// <summary>
/// What the decoder reads while training: the gold prefix (teacher forcing) or, with scheduled sampling (Bengio et al.
/// 2015), some of its own predictions; for the NAT, which output positions it reads as unknown.
/// </summary>
public sealed record DecoderInputSettings
{
    /// <summary>What the decoder reads while training: teacher_forcing (the gold prefix) or scheduled_sampling.</summary>
    [JsonPropertyName("decoder_input")] public DecoderInputKind Kind { get; init; } = DecoderInputKind.TeacherForcing;
    /// <summary>Scheduled sampling: how ε_i (the chance of feeding the gold token) decays; see <see cref="TeacherForcingSchedule"/>.</summary>
    public TeacherForcingDecay SamplingDecay { get; init; } = TeacherForcingDecay.InverseSigmoid;
    /// <summary>Scheduled sampling: k of the decay (linear: ε at step 0; exponential: base &lt; 1; inverse sigmoid: k ≥ 1).</summary>
    [JsonPropertyName("sampling_k")] public double SamplingK { get; init; } = 700;
    /// <summary>Scheduled sampling, linear decay: ε falls by this much per step.</summary>
    [JsonPropertyName("sampling_c")] public double SamplingC { get; init; } = 1e-4;
    /// <summary>Scheduled sampling, linear decay: ε never falls below this.</summary>
    public double SamplingMin { get; init; }
    /// <summary>Scheduled sampling: feed the model's argmax or a token sampled from it.</summary>
    public PredictionChoice SamplingPredictions { get; init; } = PredictionChoice.Argmax;
    /// <summary>NAT training input: every position unknown (Gu et al.) or a uniform share of them (conditional masked LM, for mask-predict).</summary>
    [JsonPropertyName("nat_masking")] public NatMasking NatMasking { get; init; } = NatMasking.All;

    /// <summary>Every problem with these settings, one sentence each.</summary>
    public IEnumerable<string> Problems() =>
        Kind == DecoderInputKind.ScheduledSampling ? TeacherForcingSchedule.From(this).Problems() : [];
}
