using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// Gradients at initialisation, the measurement behind Xiong et al. (2020), figure 3: with Post-LN the gradient
/// norm grows towards the output layers, so a large learning rate at step 1 breaks the top layers and warm-up is
/// needed; with Pre-LN it is about the same at every layer.
/// </summary>
public static class GradientProbe
{
    /// <summary>
    /// Builds <paramref name="config"/>'s model from <paramref name="seed"/>, runs one forward and backward pass of
    /// <paramref name="batch"/> (unsmoothed cross-entropy, no clipping, no update) and returns each layer's
    /// gradient norm (see <see cref="Introspection.LayerGradientNorms"/>): encoder layers, then decoder layers, then the rest.
    /// </summary>
    public static IReadOnlyList<(string Layer, double Norm)> AtInitialisation(TransformerConfig config, Batch batch, int seed, Device? device = null)
    {
        TorchRuntime.Seed(seed);
        using var model = new EncoderDecoder(config).to(device ?? torch.CPU);
        using var scope = NewDisposeScope();
        model.train();
        var logits = model.forward(batch.Source, batch.TargetInput);
        LabelSmoothedCrossEntropy.Loss(logits, batch.TargetOutput, 0, Vocabulary.Pad).backward();
        return Introspection.LayerGradientNorms(model);
    }
}
