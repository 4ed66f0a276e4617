using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model.Recurrent;

/// <summary>How the recurrent decoder scores a source position against its state (Luong et al. 2015, §3.1).</summary>
public enum AttentionScore
{
    /// <summary>Luong's multiplicative "general" score hᵀ W m.</summary>
    General,
    /// <summary>Bahdanau et al.'s (2015) additive score vᵀ tanh(W₁ h + W₂ m).</summary>
    Additive,
}

/// <summary>
/// Global attention of the classic recurrent encoder–decoder: one query (the decoder's state) against every source
/// position, a softmax over the real positions, the weighted sum of the memory. One head and no scaling — the
/// attention the Transformer generalised.
/// </summary>
public sealed class RecurrentAttention : nn.Module
{
    readonly AttentionScore score;
    readonly Linear query;        // W (general) or W₁ (additive)
    readonly Linear? key;         // W₂ (additive only)
    readonly Linear? energy;      // v (additive only)

    public RecurrentAttention(long dModel, AttentionScore score) : base(nameof(RecurrentAttention))
    {
        this.score = score;
        query = nn.Linear(dModel, dModel, hasBias: false);
        if (score == AttentionScore.Additive) { key = nn.Linear(dModel, dModel, hasBias: false); energy = nn.Linear(dModel, 1, hasBias: false); }
        RegisterComponents();
    }

    /// <param name="state"><c>[batch, d_model]</c>: the decoder's top hidden state.</param>
    /// <param name="memory"><c>[batch, source time, d_model]</c></param>
    /// <param name="sourceMask"><c>[batch, 1, 1, source time]</c>, true = real token.</param>
    /// <returns>context <c>[batch, d_model]</c> and weights <c>[batch, source time]</c> (zero on padding, summing to 1).</returns>
    public (Tensor Context, Tensor Weights) forward(Tensor state, Tensor memory, Tensor sourceMask)
    {
        using var scope = NewDisposeScope();
        var scores = score == AttentionScore.General
            ? torch.bmm(memory, query.forward(state).unsqueeze(2)).squeeze(2)
            : energy!.forward(key!.forward(memory).add(query.forward(state).unsqueeze(1), HeldScalars.One).tanh()).squeeze(2);
        var weights = scores.masked_fill(sourceMask.view(scores.shape[0], -1).logical_not(), HeldScalars.NegativeInfinity).softmax(-1);
        var context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1);
        return (context.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}
