using TransformerLab.Decoding;
using TransformerLab.Model;
using TransformerLab.Training;
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

    /// <exception cref="ArgumentException">an option is out of range or belongs to the other kind of decoder.</exception>
    public CheckpointDecoder(Checkpoint checkpoint, Device device, int beam = 1, double lengthPenalty = 0, NatDecodeOptions? nat = null)
    {
        nat ??= new NatDecodeOptions();
        if (beam < 1) throw new ArgumentException($"--beam must be at least 1 (got {beam}).");
        if (lengthPenalty < 0) throw new ArgumentException($"--length-penalty must be ≥ 0 (got {lengthPenalty}).");
        if (nat.LengthBeam < 1 || nat.Iterations < 1) throw new ArgumentException($"--length-beam and --iterations must be at least 1 (got {nat.LengthBeam} and {nat.Iterations}).");
        IsNonAutoregressive = checkpoint.Settings.Architecture == Architecture.NonAutoregressive;
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
            var strategy = DecodeStrategy.Beam(beam, lengthPenalty);
            Decode = source => strategy.Decode(autoregressive, source);
            Name = strategy.ToString()!;
            FileTag = beam == 1 && lengthPenalty == 0 ? "greedy" : $"beam{beam}" + (lengthPenalty > 0 ? $"-lp{lengthPenalty}" : "");
        }
    }

    public void Dispose() => model.Dispose();
}
