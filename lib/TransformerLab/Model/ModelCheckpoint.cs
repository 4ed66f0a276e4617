using TorchSharp;
using TransformerLab.Data;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// A trained model as a checkpoint holds it: its <see cref="ModelSpec"/>, the vocabularies it was trained with and its
/// weights (TorchSharp's <c>Module.save</c> bytes). Restoring it needs nothing from training — the training checkpoint
/// (<c>Training.Checkpoint</c>) adds the settings, progress, optimiser and RNG state around it.
/// </summary>
/// <param name="Format">the checkpoint file's format: 1 named parameters flat (<c>encoder_layers.0…</c>), from before the
/// Encoder/Decoder modules; they are renamed on load (<see cref="FormatOneName"/>). 2 and later name them by module.</param>
public sealed record ModelCheckpoint(ModelSpec Spec, Vocabulary SourceVocabulary, Vocabulary TargetVocabulary, byte[] Weights, int Format)
{
    /// <summary>The model, built from the spec for the vocabularies and given the stored weights, on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the weights do not fit the model the spec builds.</exception>
    public nn.Module Restore(Device device)
    {
        var model = Spec.Create(SourceVocabulary, TargetVocabulary);
        try { LoadWeightsInto(model); }
        catch { model.Dispose(); throw; }
        return model.to(device);
    }

    /// <summary>The autoregressive encoder–decoder (Transformer, recurrent or convolutional), on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the checkpoint holds a NAT.</exception>
    public SequenceToSequence RestoreSequenceToSequence(Device device) => Spec.IsAutoregressive
        ? (SequenceToSequence)Restore(device)
        : throw new CheckpointException("This checkpoint holds a NAT, not an autoregressive encoder–decoder; restore it with RestoreNonAutoregressive (research eval handles both).");

    /// <summary>The NAT, on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the checkpoint holds an autoregressive model.</exception>
    public NonAutoregressiveTransformer RestoreNonAutoregressive(Device device) => Spec is ModelSpec.NonAutoregressive
        ? (NonAutoregressiveTransformer)Restore(device)
        : throw new CheckpointException($"This checkpoint holds {Spec.Description}, not a NAT; restore it with RestoreSequenceToSequence.");

    /// <summary>Loads the stored weights into <paramref name="model"/> (one built like <see cref="Spec"/>'s): every stored entry must match one of its parameters or buffers.</summary>
    /// <exception cref="CheckpointException">they do not fit.</exception>
    public void LoadWeightsInto(nn.Module model)
    {
        try { LoadRenamed(model, new BinaryReader(new MemoryStream(Weights)), Format == 1 ? FormatOneName : name => name); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            throw new CheckpointException($"The checkpoint's parameters do not fit this model ({e.Message}).");
        }
    }

    /// <summary>Module.load, with each stored name passed through <paramref name="rename"/> first; every state entry must be matched.</summary>
    static void LoadRenamed(nn.Module model, BinaryReader reader, Func<string, string> rename)
    {
        var state = model.state_dict();
        var entries = ReadLeb128(reader); // TorchSharp's Module.save writes the entry count as LEB128
        if (entries != state.Count) throw new ArgumentException($"the checkpoint has {entries} state entries, the model {state.Count}");
        for (long i = 0; i < entries; i++)
        {
            var name = rename(reader.ReadString());
            if (!state.TryGetValue(name, out var tensor)) throw new ArgumentException($"the model has no parameter or buffer '{name}'");
            tensor.Load(reader);
        }
    }

    static long ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        for (var shift = 0; ; shift += 7)
        {
            long b = reader.ReadByte();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }

    /// <summary>A format-1 parameter name in format 2: <c>encoder_layers.3.x</c> → <c>encoder.layers.3.x</c>, <c>source_embedding.x</c> → <c>encoder.embedding.x</c>, …</summary>
    public static string FormatOneName(string name)
    {
        var dot = name.IndexOf('.');
        var (head, rest) = dot < 0 ? (name, "") : (name[..dot], name[dot..]);
        return head switch
        {
            "source_embedding" => "encoder.embedding", "source_position" => "encoder.position", "encoder_layers" => "encoder.layers", "encoder_norm" => "encoder.norm",
            "target_embedding" => "decoder.embedding", "target_position" => "decoder.position", "decoder_layers" => "decoder.layers", "decoder_norm" => "decoder.norm",
            "output_projection" => "output.projection", "output_bias" => "output.bias",
            _ => head,
        } + rest;
    }
}

/// <summary>A checkpoint that cannot be used; the message says why and what to do.</summary>
public sealed class CheckpointException(string message) : Exception(message);
