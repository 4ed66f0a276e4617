using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>
    /// 6. NAT against AT greedy by output length (8 … 64 tokens), batch 1 and 64, at the small G2P model's sizes: the two
    /// decoders as an evaluation calls them (<see cref="Greedy.Decode"/>, <see cref="NonAutoregressiveDecoding.Decode"/>
    /// with its length prediction: inference mode, host transfers and all). The models are untrained and pinned to the
    /// length asked for (<see cref="PinLengths"/>). Gu et al.'s shape is a NAT time nearly flat in L and an AT time linear in
    /// it. Timed in steady state (turns of ≥ 50 ms, 20 ms quick). At batch 1 also on one intra-op thread: at these shapes
    /// every LibTorch kernel is microseconds, and a second thread's fork, join and cache traffic cost more than it computes.
    /// </summary>
    void NatAgainstAt()
    {
        using var scope = NewDisposeScope();
        var transformer = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(3);
        var at = new EncoderDecoder(transformer).to(device);
        var nat = new NonAutoregressiveTransformer(new NonAutoregressiveConfig
            { Transformer = transformer with { CausalMask = false }, Length = LengthPrediction.Absolute, MaxTargetLength = 64 }).to(device);
        at.eval(); // as an evaluation after training leaves them: each decoding call then skips the mode switch
        nat.eval();
        var threads = torch.get_num_threads();
        foreach (var batch in new[] { 1, 64 })
            foreach (var length in quick ? new[] { 16, 64 } : [8, 16, 32, 64])
                foreach (var threadCount in batch == 1 && threads > 1 ? new[] { threads, 1 } : [threads])
                {
                    PinLengths(at, nat, length);
                    var source = torch.randint(4, 32, [batch, 8], device: device);
                    var times = OnThreads(threadCount, () => Latency.MeasureInterleaved(
                    [
                        () => Greedy.Decode(at, source, length),
                        () => NonAutoregressiveDecoding.Decode(nat, source),
                    ], warmup: 3, repeats: Repeats, minimumSeconds: quick ? 0.02 : 0.05));
                    var setting = $"batch {batch}, {length} tokens, {threadCount} thread{(threadCount == 1 ? "" : "s")}";
                    Add("NAT vs AT", $"AT greedy decoding, {setting}", times[0].Median * 1e3, "ms");
                    Add("NAT vs AT", $"NAT decoding (one pass), {setting}", times[1].Median * 1e3, "ms");
                    decoding.Add(new DecodingLatency(DecodingLatency.AtGreedy, batch, length, threadCount, times[0].Median * 1e3));
                    decoding.Add(new DecodingLatency(DecodingLatency.NatOnePass, batch, length, threadCount, times[1].Median * 1e3));
                    var goal = batch == 1 && length == 16;
                    Ratio($"NAT speed-up over AT greedy, {setting}", times[0], times[1], goal ? "≥ 5" : "", goal ? r => r >= 5 : null);
                }
        if (!quick) FixedCosts(at, nat); // a breakdown to read, not a smoke check
        at.Dispose();
        nat.Dispose();
    }

    /// <summary>
    /// Where one NAT decoding's time goes at batch 1, 16 tokens, one thread — the encoder, the decoder's one pass, and the
    /// rest (length prediction, masks, the host transfers: <see cref="NonAutoregressiveDecoding"/>'s own work) — each in
    /// units of one AT greedy step (greedy decoding minus its encoder, over 16). Parts are differences of nested
    /// prefixes (encoder; encoder + pass; the whole decoding), not parts timed alone: alone, a part's weights stay in
    /// the cache and it looks cheaper than it is inside the whole.
    /// </summary>
    void FixedCosts(EncoderDecoder at, NonAutoregressiveTransformer nat)
    {
        const int length = 16;
        using var scope = NewDisposeScope();
        PinLengths(at, nat, length);
        var source = torch.randint(4, 32, [1, 8], device: device);
        var placeholders = torch.full([1, length], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64, device: device);
        IReadOnlyList<LatencyMeasurement> times;
        using (torch.inference_mode())
            times = OnThreads(1, () => Latency.MeasureInterleaved(
            [
                () => { using var s = NewDisposeScope(); nat.Encode(source); },
                () => { using var s = NewDisposeScope(); var (m, k) = nat.Encode(source); nat.Decode(placeholders, source, m, k).argmax(-1); },
                () => NonAutoregressiveDecoding.Decode(nat, source),
                () => { using var s = NewDisposeScope(); at.Encode(source); },
                () => Greedy.Decode(at, source, length),
            ], warmup: 3, repeats: Repeats, minimumSeconds: quick ? 0.02 : 0.05));
        double encoder = times[0].Median, pass = times[1].Median - encoder, own = times[2].Median - times[1].Median;
        var step = (times[4].Median - times[3].Median) / length;
        string Steps(double seconds) => $"≈ {seconds / step:F1} AT steps";
        Add("NAT vs AT", "AT greedy, one step (decoding minus encoder, / 16), batch 1, 1 thread", step * 1e3, "ms");
        Add("NAT vs AT", "NAT encoder, batch 1, 8 source tokens, 1 thread", encoder * 1e3, "ms", Steps(encoder));
        Add("NAT vs AT", "NAT decoder pass and argmax, 16 positions, batch 1, 1 thread", pass * 1e3, "ms", Steps(pass));
        Add("NAT vs AT", "NAT decoding's own work (length prediction, masks, transfers), batch 1, 1 thread", own * 1e3, "ms", Steps(own));
    }

    /// <summary>
    /// Makes untrained models decode exactly <paramref name="length"/> tokens, so both sides of a comparison do the work
    /// its label says: the AT's output bias for EOS is −10⁴ (greedy never stops early), and the NAT's length classifier has
    /// bias +10⁴ on the class of <paramref name="length"/> and 0 elsewhere. Names are the checkpoint's parameter names.
    /// </summary>
    public static void PinLengths(EncoderDecoder at, NonAutoregressiveTransformer nat, int length)
    {
        using var _ = torch.no_grad();
        at.state_dict()["output.projection.bias"][Vocabulary.Eos] = -1e4f;
        var lengthBias = nat.state_dict()["length_classifier.bias"];
        lengthBias.zero_();
        lengthBias[length] = 1e4f; // absolute length prediction: class L is length L
    }
}
