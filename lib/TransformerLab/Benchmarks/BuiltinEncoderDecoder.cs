using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

/// <summary>
/// The baseline of the training-step benchmark: <see cref="EncoderDecoder"/>'s configuration built from TorchSharp's
/// <c>nn.TransformerEncoderLayer</c> and <c>nn.TransformerDecoderLayer</c> (Post-LN, time-major), with the same scaled
/// embeddings, sinusoidal positions and untied output projection. Inputs without padding.
/// </summary>
public sealed class BuiltinEncoderDecoder : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Embedding source_embedding, target_embedding;
    readonly SinusoidalPositionalEncoding position;
    readonly Dropout dropout;
    readonly ModuleList<TransformerEncoderLayer> encoder_layers;
    readonly ModuleList<TransformerDecoderLayer> decoder_layers;
    readonly Linear output_projection;
    readonly double scale;

    public BuiltinEncoderDecoder(TransformerConfig c) : base(nameof(BuiltinEncoderDecoder))
    {
        source_embedding = nn.Embedding(c.SourceVocabulary, c.DModel);
        target_embedding = nn.Embedding(c.TargetVocabulary, c.DModel);
        position = new SinusoidalPositionalEncoding(c.DModel);
        dropout = nn.Dropout(c.Dropout);
        encoder_layers = new ModuleList<TransformerEncoderLayer>(Enumerable.Range(0, c.EncoderLayers).Select(_ => nn.TransformerEncoderLayer(c.DModel, c.Heads, c.DFF, c.Dropout)).ToArray());
        decoder_layers = new ModuleList<TransformerDecoderLayer>(Enumerable.Range(0, c.DecoderLayers).Select(_ => nn.TransformerDecoderLayer(c.DModel, c.Heads, c.DFF, c.Dropout)).ToArray());
        output_projection = nn.Linear(c.DModel, c.TargetVocabulary);
        scale = Math.Sqrt(c.DModel);
        RegisterComponents();
    }

    /// <param name="source"><c>[batch, source time]</c></param>
    /// <param name="targetInput"><c>[batch, target time]</c></param>
    /// <returns>logits <c>[batch, target time, vocabulary]</c></returns>
    public override Tensor forward(Tensor source, Tensor targetInput)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(position.forward(source_embedding.forward(source) * scale, 0)).transpose(0, 1);
        foreach (var layer in encoder_layers) x = layer.call(x, null!, null!);
        var time = targetInput.shape[1];
        var causal = torch.full(time, time, double.NegativeInfinity, device: source.device).triu(1); // the float mask nn.Transformer expects
        var y = dropout.forward(position.forward(target_embedding.forward(targetInput) * scale, 0)).transpose(0, 1);
        foreach (var layer in decoder_layers) y = layer.call(y, x, causal, null!, null!, null!);
        return output_projection.forward(y.transpose(0, 1)).MoveToOuterDisposeScope();
    }
}
