using TransformerLab.Model;

namespace TransformerLab.Training;

/// <summary>
/// What training minimises, as separate terms, each with its own settings and checks: the label-smoothed cross-entropy
/// (MLE), or a sequence-level objective (MRT, REINFORCE) with some likelihood mixed in; guided attention on the
/// Transformer's cross-attention; and the NAT's length loss.
/// </summary>
public sealed record Objective
{
    /// <summary>The likelihood term (key label_smoothing).</summary>
    public CrossEntropyTerm CrossEntropy { get; init; } = new();
    /// <summary>The training loss and, for sequence-level training, its choices (keys objective, sequence_cost, candidates, mrt_alpha, mrt_reference, mle_weight, mle_anneal, init_from, finetune_steps, finetune_lr).</summary>
    public SequenceTrainingSettings Sequence { get; init; } = new();
    /// <summary>The guided-attention term (keys guided_attention, guided_attention_width); off by default.</summary>
    public GuidedAttentionTerm GuidedAttention { get; init; } = new();
    /// <summary>The NAT's length term (key length_loss_weight).</summary>
    public LengthLossTerm Length { get; init; } = new();

    /// <summary>Every problem with the terms for <paramref name="model"/>, one sentence each.</summary>
    public IEnumerable<string> Problems(ModelSettings model) =>
        CrossEntropy.Problems(model).Concat(Sequence.Problems(model)).Concat(GuidedAttention.Problems(model)).Concat(Length.Problems());

    /// <summary>Valid but almost certainly not meant.</summary>
    public IEnumerable<string> Warnings() => Sequence.Warnings();
}
