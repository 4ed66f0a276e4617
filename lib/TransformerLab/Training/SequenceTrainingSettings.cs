using System.Text.Json.Serialization;
using TransformerLab.Metrics;
using TransformerLab.Model;

namespace TransformerLab.Training;

/// <summary>What the training loss is: token-level likelihood, or a sequence-level objective on the model's own outputs.</summary>
public enum TrainingObjective
{
    /// <summary>Maximum likelihood: cross-entropy of the reference given the gold prefix (teacher forcing).</summary>
    Mle,
    /// <summary>Minimum risk training (Shen et al. 2016): the expected cost over a candidate set, <see cref="MinimumRiskTraining"/>.</summary>
    Mrt,
    /// <summary>REINFORCE with a baseline (Williams 1992; Ranzato et al. 2016), <see cref="Reinforce"/>.</summary>
    Reinforce,
}

/// <summary>
/// The choices of sequence-level training: which objective, which cost Δ(y, y*), how many candidates, and how much of
/// the likelihood loss stays in (λ, annealed to 0 MIXER-like when <see cref="MleAnneal"/> is set). Fine-tuning starts from
/// the model in <see cref="InitFrom"/>, usually an MLE checkpoint: from random weights the samples are noise and the
/// sequence-level gradient carries almost nothing.
/// </summary>
public sealed record SequenceTrainingSettings
{
    /// <summary>The training loss: mle (token cross-entropy), mrt (minimum risk training) or reinforce (policy gradient with a baseline).</summary>
    public TrainingObjective Objective { get; init; } = TrainingObjective.Mle;
    /// <summary>mrt and reinforce: the cost Δ(y, y*) they minimise — sequence_error (0/1), symbol_error (edit distance / reference length) or bleu (1 − smoothed sentence BLEU).</summary>
    public SequenceCostKind SequenceCost { get; init; } = SequenceCostKind.SymbolError;
    /// <summary>mrt and reinforce: outputs sampled from the model per source at each step.</summary>
    public int Candidates { get; init; } = 8;
    /// <summary>mrt: the sharpness α of Q(y|x) ∝ p(y|x)^α over the candidate set (Shen et al. 2016).</summary>
    [JsonPropertyName("mrt_alpha")] public double Alpha { get; init; } = 1.0;
    /// <summary>mrt: add the reference to each candidate set (as Edunov et al. 2018 do), so the set always holds a zero-cost output.</summary>
    [JsonPropertyName("mrt_reference")] public bool WithReference { get; init; } = true;
    /// <summary>mrt and reinforce: weight λ of the likelihood loss added to the sequence-level one (0 = none).</summary>
    public double MleWeight { get; init; }
    /// <summary>mrt and reinforce: steps over which λ falls linearly to 0 (MIXER-style annealing from MLE); 0 = λ stays.</summary>
    public int MleAnneal { get; init; }
    /// <summary>A checkpoint (relative to the workspace) whose model weights the run starts from; its optimiser state is not used. Empty: random initialisation.</summary>
    public string InitFrom { get; init; } = "";

    /// <summary>The sequence-training experiment: optimiser steps of each fine-tuning (continued MLE, MRT, REINFORCE) from the MLE model.</summary>
    public int FinetuneSteps { get; init; } = 1000;
    /// <summary>The sequence-training experiment: the fine-tunings' constant learning rate (no warm-up: they start from a trained model).</summary>
    public double FinetuneLr { get; init; } = 1e-4;

    /// <summary>λ at optimiser step <paramref name="step"/> (from 1).</summary>
    public double MleWeightAt(long step) => MleAnneal > 0 ? MleWeight * Math.Max(0, 1 - (double)(step - 1) / MleAnneal) : MleWeight;

    /// <summary>Every problem with these choices for <paramref name="model"/>, one sentence each.</summary>
    public IEnumerable<string> Problems(ModelSettings model)
    {
        if (Objective != TrainingObjective.Mle && !model.IsAutoregressive)
            yield return $"objective={Objective.ToString().ToLowerInvariant()} samples outputs token by token: it trains an autoregressive model (transformer, rnn or cnn), not the NAT.";
        if (Candidates > 1_024) yield return $"candidates must be at most 1,024 (got {Candidates}).";
        if (Candidates < 1) yield return $"candidates must be ≥ 1 (got {Candidates}).";
        if (Objective == TrainingObjective.Reinforce && Candidates < 2) yield return $"reinforce's baseline is the mean cost of the other samples of the same source: candidates must be ≥ 2 (got {Candidates}).";
        if (Alpha <= 0) yield return $"mrt_alpha must be positive (got {Alpha}).";
        if (MleWeight < 0) yield return $"mle_weight must be ≥ 0 (got {MleWeight}).";
        if (MleAnneal < 0) yield return $"mle_anneal must be ≥ 0 (got {MleAnneal}).";
        if (FinetuneSteps < 1) yield return $"finetune_steps must be ≥ 1 (got {FinetuneSteps}).";
        if (FinetuneLr <= 0) yield return $"finetune_lr must be positive (got {FinetuneLr}).";
    }

    /// <summary>Valid but almost certainly not meant.</summary>
    public IEnumerable<string> Warnings()
    {
        if (Objective != TrainingObjective.Mle && InitFrom.Length == 0 && MleWeight == 0)
            yield return $"objective={Objective.ToString().ToLowerInvariant()} from random weights and without the likelihood loss: the samples are noise and carry almost no signal. " +
                         "Fine-tune an MLE model (--set init_from=<its best.ckpt>), or keep some likelihood in (--set mle_weight=1 --set mle_anneal=<steps>).";
    }
}
