using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>What every decoding strategy shares.</summary>
public static class DecodingCommon
{
    /// <summary>
    /// The longest output to allow for a source: twice its length plus 10, within the model's positions.
    /// A model that never emits EOS stops here instead of running forever.
    /// </summary>
    public static int MaxLength(SequenceToSequence model, Tensor source) =>
        (int)Math.Min(model.MaxOutputLength, 2 * source.shape[1] + 10);

    /// <summary>Log-probabilities of the next token; PAD and BOS are never produced.</summary>
    /// <param name="logits"><c>[hypotheses, vocabulary]</c>, or <c>[hypotheses, time, vocabulary]</c> for every position at once</param>
    public static Tensor NextTokenLogProbabilities(Tensor logits, double temperature = 1.0)
    {
        var banned = torch.zeros(logits.shape[^1], dtype: ScalarType.Bool, device: logits.device);
        banned[Vocabulary.Pad] = true;
        banned[Vocabulary.Bos] = true;
        var scaled = temperature == 1.0 ? logits : logits / temperature;
        return scaled.masked_fill(banned, double.NegativeInfinity).log_softmax(-1);
    }

    /// <summary>
    /// Runs <paramref name="body"/> in eval mode and LibTorch's inference mode, then restores the model's mode. Inference
    /// mode is no_grad without autograd's bookkeeping (no version counters, no views tracked): per call it saves host time
    /// that matters at the small shapes of decoding. What <paramref name="body"/> returns must not enter autograd later
    /// (decoders return token ids and scores). Switching modes walks every module, so it happens only when needed.
    /// </summary>
    /// <param name="rows">rows the decoding computes at once (sources × candidates, × positions for a one-pass decoder): a
    /// small batch of a narrow model runs on one thread (<see cref="Runtime.IntraOpThreads.ForDecoding"/>; the width is the
    /// source embedding's, every architecture's d_model).</param>
    public static T Inference<T>(nn.Module model, Func<T> body, long rows = long.MaxValue)
    {
        using var threads = Runtime.IntraOpThreads.ForDecoding(rows, model is SequenceToSequence s ? s.SourceEmbedding.shape[1] : 1);
        var wasTraining = model.training;
        if (wasTraining) model.eval();
        try
        {
            using var _ = torch.inference_mode();
            return body();
        }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>Token ids of a row up to (not including) the first EOS; PAD after EOS is dropped.</summary>
    public static long[] UntilEos(long[] row)
    {
        int end = Array.IndexOf(row, (long)Vocabulary.Eos);
        return end < 0 ? row.Where(t => t != Vocabulary.Pad).ToArray() : row[..end];
    }
}
