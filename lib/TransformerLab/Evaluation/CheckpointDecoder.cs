using TransformerLab.Decoding;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Evaluation;

/// <summary>
/// A checkpoint's model restored for decoding, whichever decoder it has: an autoregressive model decodes greedily or with
/// beam search (<c>beam</c>, <c>lengthPenalty</c>), a NAT in one pass or with mask-predict (<see cref="NatDecodeOptions"/>).
/// Options of the other kind are an error, not ignored.
/// </summary>
public sealed class CheckpointDecoder : IDisposable
{
    readonly nn.Module model;

    /// <summary>One output per row of a source batch <c>[batch, source time]</c>.</summary>
    public Func<Tensor, IReadOnlyList<Hypothesis>> Decode { get; }

    /// <summary>How it decodes, for reports: "greedy", "beam 4", "NAT, length beam 1, 4 iterations"…</summary>
    public string Name { get; }

    /// <summary>A short tag for file names: greedy, beam4-lp1, nat-lb1-it4.</summary>
    public string FileTag { get; }

    public bool IsNonAutoregressive { get; }

    /// <summary>The vocabularies the checkpoint was trained with.</summary>
    public Data.Vocabulary SourceVocabulary { get; }
    public Data.Vocabulary TargetVocabulary { get; }

    /// <summary>A copying model's extended vocabulary, as the model was trained with it; null for every other model.</summary>
    public Data.ExtendedVocabulary? Copy { get; }

    /// <exception cref="ArgumentException">an option is out of range or belongs to the other kind of decoder.</exception>
    public CheckpointDecoder(ModelCheckpoint checkpoint, Device device, int beam = 1, double lengthPenalty = 0, NatDecodeOptions? nat = null)
    {
        nat ??= new NatDecodeOptions();
        if (beam < 1) throw new ArgumentException($"--beam must be at least 1 (got {beam}).");
        if (lengthPenalty < 0) throw new ArgumentException($"--length-penalty must be ≥ 0 (got {lengthPenalty}).");
        if (nat.LengthBeam < 1 || nat.Iterations < 1) throw new ArgumentException($"--length-beam and --iterations must be at least 1 (got {nat.LengthBeam} and {nat.Iterations}).");
        IsNonAutoregressive = !checkpoint.Spec.IsAutoregressive;
        (SourceVocabulary, TargetVocabulary) = (checkpoint.SourceVocabulary, checkpoint.TargetVocabulary);
        if (IsNonAutoregressive)
        {
            if (beam != 1 || lengthPenalty != 0) throw new ArgumentException("--beam and --length-penalty are for autoregressive checkpoints; a NAT takes --length-beam and --iterations.");
            var nonAutoregressive = checkpoint.RestoreNonAutoregressive(device);
            model = nonAutoregressive;
            Decode = source => NonAutoregressiveDecoding.Decode(nonAutoregressive, source, nat).Hypotheses;
            Name = nat.ToString();
            FileTag = $"nat-lb{nat.LengthBeam}-it{nat.Iterations}";
        }
        else
        {
            if (nat.LengthBeam != 1 || nat.Iterations != 1) throw new ArgumentException("--length-beam and --iterations are for NAT checkpoints; an autoregressive one takes --beam and --length-penalty.");
            var autoregressive = checkpoint.RestoreSequenceToSequence(device);
            model = autoregressive;
            Copy = autoregressive.CopyVocabulary;
            var strategy = DecodeStrategy.Beam(beam, lengthPenalty);
            Decode = source => strategy.Decode(autoregressive, source);
            Name = strategy.ToString()!;
            FileTag = beam == 1 && lengthPenalty == 0 ? "greedy" : $"beam{beam}" + (lengthPenalty > 0 ? $"-lp{lengthPenalty}" : "");
        }
    }

    /// <summary>
    /// About how many bytes beam search holds at its widest for <paramref name="batch"/> sources: every hypothesis's key/value
    /// cache over the decoder's layers and its scores over the target vocabulary, at the model's longest output, with room
    /// for the intermediate tensors of one step.
    /// </summary>
    public static double BeamBytes(ModelCheckpoint checkpoint, int beam, int batch)
    {
        var config = checkpoint.Spec.Sizes;
        var targetVocabulary = checkpoint.TargetVocabulary.Count;
        double hypotheses = (double)beam * batch;
        double perHypothesis = 2.0 * config.DecoderLayers * config.MaxLength * config.DModel + 4.0 * targetVocabulary + 4.0 * config.DFF;
        return 4 * hypotheses * perHypothesis;
    }

    /// <summary>Null if the beam fits in this machine's memory, otherwise what to do instead.</summary>
    public static string? BeamTooWide(ModelCheckpoint checkpoint, int beam, int batch)
    {
        double available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2.0; // the model, the data and LibTorch's own need the rest
        if (BeamBytes(checkpoint, beam, batch) <= available) return null;
        int fitsAlone = (int)Math.Max(1, Math.Min(int.MaxValue, available / BeamBytes(checkpoint, 1, 1)));
        return $"--beam {beam} with --batch-size {batch} would hold about {BeamBytes(checkpoint, beam, batch) / 1e9:G3} GB of hypotheses, more than half of this machine's " +
               $"{2 * available / 1e9:G3} GB; lower --batch-size (a beam of {beam} fits {(int)Math.Max(0, available / BeamBytes(checkpoint, beam, 1))} sources at once) " +
               $"or the beam (at most about {fitsAlone:N0} for one source at a time).";
    }

    public void Dispose() => model.Dispose();
}
