

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>
    /// 8. Vaswani et al.'s Table 1 per layer (<see cref="LayerScaling"/>, notebook 09): one layer of each kind over one
    /// sequence, d_model 128, against n; and what the recurrence's n dependent steps cost against LibTorch's fused LSTM.
    /// </summary>
    public const string LayersSection = "one layer against n (Table 1)";

    void LayersAgainstLength()
    {
        var costs = LayerScaling.Measure(quick ? [128, 512] : [128, 512, 2048], repeats: Repeats, device: device);
        foreach (var c in costs) Add(LayersSection, $"{c.Layer}, n = {c.Length}", c.Milliseconds, "ms");
        var longest = costs.Max(c => c.Length);
        double At(string prefix) => costs.Single(c => c.Length == longest && c.Layer.StartsWith(prefix, StringComparison.Ordinal)).Milliseconds;
        // medians of separate measurements (not interleaved), so these ratios carry no spread
        Ratio($"time: LSTM as {longest} dependent steps / fused LSTM (n = {longest})", At("recurrent (LSTM, one call") / At("recurrent (LSTM, fused)"), "reported", null);
        Ratio($"time: self-attention layer / fused LSTM layer (n = {longest})", At("self-attention") / At("recurrent (LSTM, fused)"), "reported", null);
    }
}
