using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Model.Recurrent;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

/// <summary>What one layer's forward pass cost at one sequence length: median time, and the peak memory it added.</summary>
public sealed record LayerCost(string Layer, long Length, double Milliseconds, double PeakMegabytes);

/// <summary>
/// Vaswani et al.'s Table 1 (complexity per layer, sequential operations), measured: one layer of each kind over one
/// sequence <c>[1, n, d_model]</c>, no gradients — a self-attention encoder layer (attention and feed-forward), the same
/// layer with restricted attention (window r), an LSTM layer as LibTorch fuses it and as its n dependent steps (our
/// <see cref="LstmCell"/>, one call per step: the O(n) sequential operations made visible), and a convolution of width k
/// with its gated linear unit. Time is the median of repeats; memory as in <see cref="AttentionScaling.PeakMegabytes"/>.
/// </summary>
public static class LayerScaling
{
    /// <summary>The layers measured, by name, each a function of the input <c>[1, n, d_model]</c>.</summary>
    public static IReadOnlyList<(string Name, Func<Tensor, Tensor> Forward, IDisposable Module)> Layers(long dModel, long heads, long window, int kernel, Device? device = null)
    {
        device ??= torch.CPU;
        var config = new TransformerConfig { DModel = dModel, Heads = heads, DFF = 4 * dModel, Dropout = 0, Norm = NormPlacement.Pre };
        var attention = new EncoderLayer(config);
        var restricted = new EncoderLayer(config with { Attention = AttentionKind.Local, AttentionWindow = window });
        var fused = nn.LSTM(dModel, dModel, batchFirst: true);
        var cell = new LstmCell(dModel, dModel);
        var convolution = nn.Conv1d(dModel, 2 * dModel, kernel, padding: (kernel - 1) / 2);
        foreach (var m in new nn.Module[] { attention, restricted, fused, cell, convolution }) m.to(device).eval();
        return
        [
            ("self-attention", x => attention.forward(x, null), attention),
            ($"restricted self-attention, r = {window}", x => restricted.forward(x, null), restricted),
            ("recurrent (LSTM, fused)", x => fused.forward(x).Item1, fused),
            ("recurrent (LSTM, one call per step)", x =>
            {
                var state = cell.Zero(1, x.device, x.dtype);
                for (long t = 0; t < x.shape[1]; t++) state = cell.Step(x.select(1, t), state);
                return state.Hidden;
            }, cell),
            ($"convolution, k = {kernel}", x => nn.functional.glu(convolution.forward(x.transpose(1, 2)), 1), convolution),
        ];
    }

    /// <summary>Times every layer at every length, one layer and one length at a time.</summary>
    public static IReadOnlyList<LayerCost> Measure(IReadOnlyList<long> lengths, long dModel = 128, long heads = 4, long window = 16, int kernel = 3,
        int repeats = 3, Action<string>? progress = null, Device? device = null)
    {
        using var inference = torch.inference_mode();
        TorchRuntime.Seed(1);
        var layers = Layers(dModel, heads, window, kernel, device);
        try
        {
            var costs = new List<LayerCost>();
            foreach (var n in lengths)
            {
                using var scope = NewDisposeScope();
                var x = torch.randn(1, n, dModel, device: device);
                foreach (var (name, forward, _) in layers)
                {
                    var (milliseconds, peak) = AttentionScaling.TimeAndPeak(() => forward(x), repeats);
                    costs.Add(new LayerCost(name, n, milliseconds, peak));
                    progress?.Invoke($"{name}, n = {n}: {milliseconds:F2} ms");
                }
            }
            return costs;
        }
        finally { foreach (var (_, _, module) in layers) module.Dispose(); }
    }
}
