using TransformerLab.Decoding;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Evaluation;

/// <summary>How to turn a source into one output: greedy, beam search or sampling.</summary>
public abstract record DecodeStrategy
{
    public sealed record GreedyDecoding : DecodeStrategy { public override string ToString() => "greedy"; }
    public sealed record BeamDecoding(BeamOptions Options) : DecodeStrategy { public override string ToString() => $"beam {Options.BeamSize}" + (Options.LengthPenalty > 0 ? $", α {Options.LengthPenalty}" : ""); }
    public sealed record SampledDecoding(SamplingOptions Options) : DecodeStrategy { public override string ToString() => $"sampling (T {Options.Temperature}, top-k {Options.TopK}, top-p {Options.TopP})"; }

    public static DecodeStrategy Greedy { get; } = new GreedyDecoding();
    public static DecodeStrategy Beam(int size, double lengthPenalty = 0) => size == 1 && lengthPenalty == 0 ? Greedy : new BeamDecoding(new BeamOptions(size, lengthPenalty));

    /// <summary>The best hypothesis for each row of <paramref name="source"/> <c>[batch, source time]</c>.</summary>
    public IReadOnlyList<Hypothesis> Decode(SequenceToSequence model, Tensor source) => this switch
    {
        GreedyDecoding => Decoding.Greedy.Decode(model, source),
        BeamDecoding b => BeamSearch.Decode(model, source, b.Options).Select(n => n[0]).ToList(),
        SampledDecoding s => Sampling.Decode(model, source, s.Options),
        _ => throw new InvalidOperationException(),
    };
}
