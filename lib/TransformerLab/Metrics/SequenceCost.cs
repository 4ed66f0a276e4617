namespace TransformerLab.Metrics;

/// <summary>What a sequence-level objective minimises: the cost Δ(y, y*) of one output against its reference, in [0, 1].</summary>
public enum SequenceCostKind
{
    /// <summary>1 unless the output equals the reference (a word's share of WER in G2P; sequence error on the synthetic tasks).</summary>
    SequenceError,
    /// <summary>Edit distance over the reference length, capped at 1 (a word's PER in G2P).</summary>
    SymbolError,
    /// <summary>1 − smoothed sentence BLEU (<see cref="Bleu.Sentence{T}"/>).</summary>
    Bleu,
}

/// <summary>Δ(y, y*) — the negative of the reward sequence-level training maximises.</summary>
public static class SequenceCost
{
    /// <param name="output">the model's tokens, no BOS or EOS.</param>
    /// <param name="reference">the gold tokens, no BOS or EOS.</param>
    public static double Of<T>(SequenceCostKind kind, IReadOnlyList<T> output, IReadOnlyList<T> reference) => kind switch
    {
        SequenceCostKind.SequenceError => output.SequenceEqual(reference) ? 0 : 1,
        SequenceCostKind.SymbolError => Math.Min(1.0, EditDistance.Between(output, reference) / (double)Math.Max(1, reference.Count)),
        SequenceCostKind.Bleu => 1 - Bleu.Sentence(output, reference),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
