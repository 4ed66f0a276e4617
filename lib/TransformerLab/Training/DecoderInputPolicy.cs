using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

public enum DecoderInputKind
{
    /// <summary>The decoder reads the gold prefix (BOS + target), as the paper trains.</summary>
    TeacherForcing,
}

/// <summary>
/// What the decoder reads during training. Teacher forcing feeds the gold prefix; the gap between that and
/// decoding from its own predictions is exposure bias, and scheduled sampling (a later policy) mixes the two.
/// </summary>
public interface IDecoderInputPolicy
{
    /// <param name="step">the optimiser step (from 1), for policies that change over training.</param>
    /// <param name="batch">the batch, with the gold <see cref="Batch.TargetInput"/> <c>[batch, target time]</c>.</param>
    /// <returns>the decoder input <c>[batch, target time]</c>.</returns>
    Tensor DecoderInput(EncoderDecoder model, Batch batch, Tensor memory, Tensor sourceMask, long step);
}

public sealed class TeacherForcing : IDecoderInputPolicy
{
    public Tensor DecoderInput(EncoderDecoder model, Batch batch, Tensor memory, Tensor sourceMask, long step) => batch.TargetInput;
}

public static class DecoderInputPolicies
{
    public static IDecoderInputPolicy Create(TrainingSettings settings) => settings.DecoderInput switch
    {
        DecoderInputKind.TeacherForcing => new TeacherForcing(),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.DecoderInput, "unknown decoder input policy"),
    };
}
