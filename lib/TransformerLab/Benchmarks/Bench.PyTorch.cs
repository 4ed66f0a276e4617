using System.Diagnostics;
using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>
    /// 11. Beside PyTorch (issue 35): multi-head attention forward (d_model 256, 4 heads, batch 8, T = 64 and 256) and cached
    /// greedy decoding (the kv-cache section's model, batch 8, L = 16 and 64), ours and the PyTorch peer's
    /// (<see cref="PyTorchPeer"/>), on one thread, on every core and each on its own default (ours: every core, one thread
    /// for a small decoding, <see cref="IntraOpThreads"/>; PyTorch's: its start-up count), turn by turn: ours for a turn in this process, then
    /// the peer's in its own, each timing its own calls. The ratio is our throughput over the peer's (above 1: ours is faster);
    /// "same projections + kernel" separates what our module adds from what LibTorch costs.
    /// </summary>
    void BesidePyTorch()
    {
        const string section = "beside PyTorch";
        using var peer = PyTorchPeer.TryStart(PyTorchPeer.Python, out var reason);
        if (peer is null)
        {
            Add(section, $"skipped: {reason}", double.NaN, "");
            return;
        }
        Add(section, $"peer: {peer.Version}", double.NaN, "");
        if (!peer.Version.Contains("openblas", StringComparison.OrdinalIgnoreCase) && !peer.Version.Contains("mkl", StringComparison.OrdinalIgnoreCase))
            Add(section, "warning: the peer's BLAS is not OpenBLAS or MKL (Debian's reference BLAS is tens of times slower): apt-get install libopenblas0-pthread before quoting these ratios", double.NaN, "");
        using var scope = NewDisposeScope();
        TorchRuntime.Seed(2);
        var attention = new MultiHeadAttention(256, 4).to(device);
        attention.eval();
        var (wq, wk, wv, wo) = attention.Projections;
        var decoder = new EncoderDecoder(StepConfig(false)).to(device);
        decoder.eval();
        var source = torch.randint(4, 64, [8, 32], device: device);
        var encoded = decoder.Encode(source);
        var threadCounts = Environment.ProcessorCount > 1 ? new[] { 1, Environment.ProcessorCount, 0 } : [1, 0];
        foreach (var threads in threadCounts)
        {
            foreach (var time in quick ? new[] { 64 } : [64, 256])
            {
                var x = torch.randn(8, time, 256, device: device);
                Compare(section, peer, "mha", time, threads, $"multi-head attention forward, T={time}",
                    [("ours", () => attention.forward(x, x, x)), ("same projections + kernel", () => MinimalAttention(x, wq, wk, wv, wo, 4))]);
            }
            foreach (var length in quick ? new[] { 16 } : [16, 64])
                Compare(section, peer, "greedy", length, threads, $"cached greedy decoding, L={length}, batch 8",
                    // through DecodingCommon.Inference, as the decoders run it: inference mode and, unpinned, the thread choice for 8 rows
                    [("ours", () => Decoding.DecodingCommon.Inference(decoder, () => { DecodeSteps(decoder, encoded, length, useCache: true); return (Tensor?)null; }, rows: 8))]);
        }
    }

    /// <summary>Times our candidates and the peer's workload in turns (warm-up turns first) and records each median and the throughput ratios.</summary>
    void Compare(string section, PyTorchPeer peer, string workload, int size, int threads, string name, IReadOnlyList<(string Label, Func<Tensor?> Call)> ours)
    {
        using var pinned = threads > 0 ? IntraOpThreads.Use(threads) : null; // 0: each side's default
        using var grad = torch.no_grad();
        const double turnSeconds = 0.25;
        var calls = ours.Select(c => CallsFor(c.Call, turnSeconds)).ToArray();
        var peerCalls = Math.Max(1, (int)Math.Ceiling(turnSeconds / Math.Max(peer.SecondsPerCall(workload, size, threads, 1), 1e-7)));
        var oursSeconds = ours.Select(_ => new List<double>()).ToArray();
        var peerSeconds = new List<double>();
        for (int turn = 0; turn < 2 + Repeats; turn++)
        {
            var timed = turn >= 2; // two warm-up turns each
            for (int c = 0; c < ours.Count; c++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < calls[c]; i++) { using var s = NewDisposeScope(); ours[c].Call(); }
                if (timed) oursSeconds[c].Add(clock.Elapsed.TotalSeconds / calls[c]);
            }
            var theirs = peer.SecondsPerCall(workload, size, threads, peerCalls);
            if (timed) peerSeconds.Add(theirs);
        }
        var peerTime = new Evaluation.LatencyMeasurement(peerSeconds);
        var label = $"{name}, {(threads == 0 ? "default threads" : $"{threads} thread{(threads == 1 ? "" : "s")}")}";
        Add(section, $"PyTorch peer: {label}", peerTime.Median * 1e3, "ms");
        for (int c = 0; c < ours.Count; c++)
        {
            var ourTime = new Evaluation.LatencyMeasurement(oursSeconds[c]);
            Add(section, $"{ours[c].Label}: {label}", ourTime.Median * 1e3, "ms");
            Ratio($"{ours[c].Label} / PyTorch peer throughput: {label}", peerTime, ourTime, "", null);
        }
    }

    static int CallsFor(Func<Tensor?> call, double seconds)
    {
        using var s = NewDisposeScope();
        call();
        var clock = Stopwatch.StartNew();
        call();
        return Math.Max(1, (int)Math.Ceiling(seconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-7)));
    }
}
