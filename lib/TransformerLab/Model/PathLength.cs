using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// Vaswani et al.'s "maximum path length" (2017, Table 1), measured instead of quoted: how strongly each encoder output
/// y_t depends on the first input x_0. The source holds n distinct tokens, so x_0 is one row of the embedding matrix, and
/// autograd gives ‖J_tᵀ u‖, J_t = ∂y_t/∂x_0, for a random unit vector u (float64, eval mode). An output outside x_0's
/// reach has no path from it, so its gradient is exactly 0 however deep the stack — a difference quotient would lose the
/// tiny but real dependence at the edge of a deep convolution's receptive field. Self-attention connects every pair in one
/// layer; a recurrence reaches y_t through t steps, each of which can shrink the signal; a convolution of width k reaches
/// only (k − 1)/2 positions further per layer (dilated: the reach doubles).
/// </summary>
public static class PathLength
{
    /// <summary>‖∂y_t/∂x_0ᵀ u_t‖ for t = 0 … <paramref name="length"/> − 1: the sensitivity of each encoder output to the first input.</summary>
    /// <param name="model">an encoder–decoder whose source vocabulary has at least <paramref name="length"/> + 4 tokens (ids 4 … are used, one per position).</param>
    public static double[] SensitivityToFirstInput(SequenceToSequence model, int length, long seed = 0) =>
        Measure(model, length, Enumerable.Range(0, length).ToArray(), seed);

    /// <summary>The farthest position whose output depends on x_0 at all (a gradient that is not exactly 0): the encoder's reach.</summary>
    public static int Reach(IReadOnlyList<double> sensitivity) =>
        Enumerable.Range(0, sensitivity.Count).Where(t => sensitivity[t] > 0).DefaultIfEmpty(-1).Max();

    /// <summary>
    /// The fewest layers (1 … <paramref name="maxLayers"/>) with which the last output of a sequence of
    /// <paramref name="length"/> depends on its first input — Table 1's maximum path length, counted in layers;
    /// null if even <paramref name="maxLayers"/> do not connect them.
    /// </summary>
    /// <param name="build">a fresh model with the given number of encoder layers.</param>
    public static int? LayersToConnect(Func<int, SequenceToSequence> build, int length, int maxLayers)
    {
        for (int layers = 1; layers <= maxLayers; layers++)
        {
            using var model = build(layers);
            if (Measure(model, length, [length - 1], seed: 0)[0] > 0) return layers;
        }
        return null;
    }

    /// <summary>The sensitivity of the outputs at <paramref name="positions"/> to x_0: one forward pass, one gradient per position.</summary>
    static double[] Measure(SequenceToSequence model, int length, int[] positions, long seed)
    {
        var embedding = model.SourceEmbedding;
        if (embedding.shape[0] < length + 4)
            throw new ArgumentException($"the model's source vocabulary ({embedding.shape[0]}) needs length + 4 = {length + 4} tokens: one distinct token per position.");
        var wasTraining = model.training;
        var dtype = embedding.dtype;
        model.eval();
        model.to(ScalarType.Float64);
        try
        {
            using var grad = torch.enable_grad();
            using var scope = NewDisposeScope();
            var source = torch.arange(4, 4 + length, dtype: ScalarType.Int64, device: embedding.device).unsqueeze(0);
            var memory = model.Encode(source).Memory[0];                                     // [time, d_model]
            using var generator = new Generator((ulong)seed);
            var u = torch.randn([length, memory.shape[1]], dtype: ScalarType.Float64, generator: generator).to(embedding.device);
            u /= u.norm(1, keepdim: true);
            var weight = model.SourceEmbedding;
            return positions.Select(t =>
            {
                var gradient = torch.autograd.grad([(memory[t] * u[t]).sum()], [weight], retain_graph: true, allow_unused: true)[0];
                return gradient is null || gradient.IsInvalid ? 0.0 : gradient[4].norm().item<double>();
            }).ToArray();
        }
        finally
        {
            model.to(dtype);
            model.train(wasTraining);
        }
    }
}
