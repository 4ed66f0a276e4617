using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The pointer-generator output (See et al. 2017): at each output position the model either generates from its
/// vocabulary or copies a source token, mixed by p_gen —
///   P(w) = p_gen · P_vocab(w) + (1 − p_gen) · Σ_{i : x_i = w} a_i,   p_gen = σ(w_hᵀ h_t + w_cᵀ c_t + w_xᵀ x_t + b),
/// where a is the decoder's cross-attention over source positions (averaged over heads), c_t = Σ_i a_i m_i the attended
/// encoder memory, h_t the decoder's output state and x_t its input embedding. Source tokens come as ids in the
/// <i>extended</i> target vocabulary: a token the target vocabulary holds keeps its id; a source-only token gets an id
/// ≥ V, one per distinct such token of the row — so copying can produce a word the output layer has never seen.
/// </summary>
public sealed class PointerGenerator : nn.Module
{
    readonly Linear gate; // [h_t; c_t; x_t] → the logit of p_gen

    public PointerGenerator(long dModel) : base(nameof(PointerGenerator))
    {
        gate = nn.Linear(3 * dModel, 1);
        RegisterComponents();
    }

    /// <summary>The gate's parameters, for tests and analysis (weight <c>[1, 3·d_model]</c>, bias <c>[1]</c>).</summary>
    public Linear Gate => gate;

    /// <summary>The mixed distribution, as log-probabilities, and p_gen.</summary>
    /// <param name="vocabularyLogits"><c>[batch, time, V]</c>: the output layer's logits.</param>
    /// <param name="attention"><c>[batch, time, source time]</c>: cross-attention weights, rows summing to 1 (0 on padding).</param>
    /// <param name="state"><c>[batch, time, d_model]</c>: the decoder's output h_t.</param>
    /// <param name="memory"><c>[batch, source time, d_model]</c>: the encoder's output.</param>
    /// <param name="input"><c>[batch, time, d_model]</c>: the decoder's input embedding x_t.</param>
    /// <param name="sourceIds"><c>[batch, source time]</c>: the source tokens in the extended target vocabulary.</param>
    /// <param name="extendedVocabulary">V plus the most source-only tokens of any row: the width of the result.</param>
    /// <returns>log P <c>[batch, time, extended]</c> (−∞ where P is 0), and p_gen <c>[batch, time]</c>.</returns>
    public (Tensor LogProbabilities, Tensor PGen) forward(Tensor vocabularyLogits, Tensor attention, Tensor state, Tensor memory, Tensor input,
        Tensor sourceIds, long extendedVocabulary)
    {
        using var scope = NewDisposeScope();
        long batch = attention.shape[0], time = attention.shape[1], vocabulary = vocabularyLogits.shape[^1];
        if (extendedVocabulary < vocabulary) throw new ArgumentException($"the extended vocabulary ({extendedVocabulary}) cannot be smaller than the vocabulary ({vocabulary}).");
        var context = attention.matmul(memory);                                                   // c_t [batch, time, d_model]
        var pGen = torch.sigmoid(gate.forward(torch.cat([state, context, input], -1)));           // [batch, time, 1]
        var generate = pGen * vocabularyLogits.softmax(-1);
        if (extendedVocabulary > vocabulary)
            generate = nn.functional.pad(generate, [0, extendedVocabulary - vocabulary]);         // source-only words: nothing to generate
        var copy = torch.zeros(batch, time, extendedVocabulary, dtype: generate.dtype, device: generate.device)
            .scatter_add(-1, sourceIds.unsqueeze(1).expand(batch, time, -1), (1 - pGen) * attention); // Σ over positions holding w
        var logProbabilities = (generate + copy).log();
        return (logProbabilities.MoveToOuterDisposeScope(), pGen.squeeze(-1).MoveToOuterDisposeScope());
    }
}
