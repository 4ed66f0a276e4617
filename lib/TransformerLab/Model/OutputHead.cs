using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The linear layer before the softmax (figure 1; the Annotated Transformer's <c>Generator</c>), <c>[…, d_model]</c> →
/// <c>[…, target vocabulary]</c> logits. Tied (Press and Wolf 2017; the paper does), it reuses the target embedding matrix
/// and learns only a bias.
/// </summary>
public sealed class OutputHead : nn.Module<Tensor, Tensor>
{
    readonly Linear? projection;   // absent when tied
    readonly Parameter? bias;      // present only when tied
    readonly Func<Tensor>? tiedWeight; // the decoder owns the embedding; a delegate is not registered as a second copy

    public OutputHead(TransformerConfig c, TokenEmbedding targetEmbedding) : base(nameof(OutputHead))
    {
        if (c.TieEmbeddings) { bias = nn.Parameter(torch.zeros(c.TargetVocabulary)); tiedWeight = () => targetEmbedding.Weight; }
        else projection = nn.Linear(c.DModel, c.TargetVocabulary);
        RegisterComponents();
    }

    /// <summary>Whether the head shares the target embedding matrix (and learns only a bias).</summary>
    public bool IsTied => projection is null;

    /// <param name="y"><c>[batch, time, d_model]</c></param>
    /// <returns><c>[batch, time, target vocabulary]</c></returns>
    public override Tensor forward(Tensor y) =>
        projection is not null ? MixedPrecision.Linear(projection, y) : MixedPrecision.Linear(y, tiedWeight!(), bias);
}
