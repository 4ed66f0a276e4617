using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// What the training loop needs of an architecture: the module, the loss of a batch, and the two dev readings
/// (loss and accuracy with the gold context; greedy-decoded outputs). The loop itself is the same for both.
/// </summary>
public abstract class TrainableModel : IDisposable
{
    public abstract nn.Module Module { get; }

    /// <summary>The parameters in the order a seed draws them: the optimiser's and gradient clipping's order.</summary>
    public abstract IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }
    /// <summary>The training loss of <paramref name="batch"/> at optimiser step <paramref name="step"/> (from 1), in training mode.</summary>
    public abstract Tensor Loss(Batch batch, long step);
    /// <summary>Loss and token accuracy on <paramref name="examples"/> with the gold context (teacher forcing, or the gold length).</summary>
    public abstract (double Loss, double TokenAccuracy) GoldContextReadings(TaskData data, IReadOnlyList<Example> examples, Device device);
    /// <summary>One output per row of <paramref name="source"/> <c>[batch, source time]</c>: greedy decoding, or the NAT's one-shot argmax.</summary>
    public abstract IReadOnlyList<Hypothesis> DecodeGreedy(Tensor source);

    public void Dispose() => Module.Dispose();

    /// <summary>The model <paramref name="settings"/> describe, freshly initialised from the current torch seed.</summary>
    public static TrainableModel Create(TrainingSettings settings, TaskData data, Device device, IDecoderInputPolicy? decoderInput = null) =>
        settings.ModelSpec().Create(data.SourceVocabulary, data.TargetVocabulary).to(device) switch
        {
            NonAutoregressiveTransformer nat => new NonAutoregressive(nat, settings),
            var model => new Autoregressive((SequenceToSequence)model, settings, decoderInput ?? DecoderInputPolicies.Create(settings.DecoderInput)),
        };

    sealed class Autoregressive(SequenceToSequence model, TrainingSettings settings, IDecoderInputPolicy decoderInput) : TrainableModel
    {
        public override nn.Module Module => model;
        public override IReadOnlyList<TorchSharp.Modules.Parameter> Parameters => model.ParametersInSeedOrder();

        /// <summary>The Transformer whose last decoder layer's cross-attention guided attention shapes (null when it is off).</summary>
        readonly EncoderDecoder? guided = settings.Objective.GuidedAttention.IsOn ? (EncoderDecoder)model : null;

        public override Tensor Loss(Batch batch, long step)
        {
            using var scope = NewDisposeScope();
            var source = model.Encode(batch.Source);
            var sequence = settings.Objective.Sequence;
            if (sequence.Objective == TrainingObjective.Mle) return Likelihood(batch, source, step).MoveToOuterDisposeScope();
            var loss = SequenceLevel(batch, source, step);
            var mleWeight = sequence.MleWeightAt(step);
            if (mleWeight > 0) loss = loss + mleWeight * Likelihood(batch, source, step);
            return loss.MoveToOuterDisposeScope();
        }

        /// <summary>Label-smoothed cross-entropy of the reference with the decoder input the policy gives (teacher forcing by default), plus guided attention when on.</summary>
        Tensor Likelihood(Batch batch, EncodedSource source, long step)
        {
            var input = decoderInput.DecoderInput(model, batch, source, step);
            var objective = settings.Objective;
            if (guided is null) return objective.CrossEntropy.Loss(model.Decode(input, source), batch.TargetOutput);
            var (logits, attention) = guided.DecodeWithAttention(input, source); // the attention the pointer read too, when the model copies
            return objective.CrossEntropy.Loss(logits, batch.TargetOutput) + objective.GuidedAttention.Loss(attention, batch);
        }

        /// <summary>Minimum risk or REINFORCE on outputs sampled for this step (the generator seeded by seed and step, so a resumed run draws the same).</summary>
        Tensor SequenceLevel(Batch batch, EncodedSource source, long step)
        {
            var s = settings.Objective.Sequence;
            bool risk = s.Objective == TrainingObjective.Mrt;
            var candidates = CandidateSet.Sample(model, batch, s.Candidates, seed: settings.Seed * 1_000_003L + step, withReference: risk && s.WithReference, distinct: risk);
            var device = source.Memory.device;
            var logProbabilities = candidates.LogProbabilities(model, source);
            var costs = candidates.Costs(s.SequenceCost, device);
            return risk
                ? MinimumRiskTraining.Risk(logProbabilities, costs, candidates.ValidMask(device), s.Alpha)
                : Reinforce.Loss(logProbabilities, costs);
        }

        public override (double Loss, double TokenAccuracy) GoldContextReadings(TaskData data, IReadOnlyList<Example> examples, Device device) =>
            Training.GoldContextReadings.TeacherForced(model, examples, data.SourceVocabulary, data.TargetVocabulary, device);

        public override IReadOnlyList<Hypothesis> DecodeGreedy(Tensor source) => Greedy.Decode(model, source);
    }

    sealed class NonAutoregressive(NonAutoregressiveTransformer model, TrainingSettings settings) : TrainableModel
    {
        public override nn.Module Module => model;
        public override IReadOnlyList<TorchSharp.Modules.Parameter> Parameters => model.ParametersInSeedOrder();

        public override Tensor Loss(Batch batch, long step) =>
            NonAutoregressiveObjective.Loss(model, batch, settings.Objective.CrossEntropy.LabelSmoothing, settings.Objective.Length.Weight, settings.DecoderInput.NatMasking);

        public override (double Loss, double TokenAccuracy) GoldContextReadings(TaskData data, IReadOnlyList<Example> examples, Device device) =>
            Training.GoldContextReadings.GoldLength(model, examples, data.SourceVocabulary, data.TargetVocabulary, device);

        public override IReadOnlyList<Hypothesis> DecodeGreedy(Tensor source) => NonAutoregressiveDecoding.Decode(model, source).Hypotheses;
    }
}
