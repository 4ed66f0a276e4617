using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Runtime;

/// <summary>The arithmetic of a model's matrix products: float32 throughout, or bfloat16 for the products (mixed precision).</summary>
public enum Precision { Fp32, Bf16 }

/// <summary>
/// Mixed precision the way autocast does it, written out because TorchSharp 0.107 has no autocast (its assembly has no
/// autocast API and no native entry point for one): inside <see cref="Use"/>, the matmul-heavy operations — the
/// attention projections and the fused attention kernel, the feed-forward layers, the output layer — compute in
/// bfloat16 (the study paths stay float32: the explicit softmax used to record weights, and the efficient self-attention
/// kernels of notebook 10), and everything
/// else stays float32: master weights and gradients, the optimiser's state, embeddings, LayerNorm, residual sums,
/// softmax over the vocabulary and the loss. Each product casts its inputs and weights to bfloat16 on the way in
/// (autograd casts their gradients back to float32) and its result to float32 on the way out, so a layer's contract —
/// float32 in, float32 out — is the same in both precisions, and a checkpoint is float32 whichever trained it.
/// </summary>
public static class MixedPrecision
{
    // flows with the logical call (async continuations, a notebook cell's awaits), as autocast's state follows its thread
    static readonly AsyncLocal<ScalarType?> current = new();

    static ScalarType? compute { get => current.Value; set => current.Value = value; }

    /// <summary>The dtype matrix products compute in here: bfloat16 inside <see cref="Use"/>(Bf16), else null (as stored).</summary>
    public static ScalarType? ComputeType => compute;

    /// <summary>
    /// Runs the matrix products of this logical call in <paramref name="precision"/> until the returned scope is disposed
    /// (scopes nest; disposing restores the outer one).
    /// </summary>
    public static IDisposable Use(Precision precision)
    {
        var outer = compute;
        compute = precision == Precision.Bf16 ? ScalarType.BFloat16 : null;
        return new Restore(outer);
    }

    sealed class Restore(ScalarType? outer) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            compute = outer;
            done = true;
        }
    }

    /// <summary>y = x Wᵀ + b for <paramref name="layer"/>, in the compute precision. <c>[…, in]</c> → <c>[…, out]</c>, float32.</summary>
    public static Tensor Linear(TorchSharp.Modules.Linear layer, Tensor x) =>
        compute is null ? layer.forward(x) : Linear(x, layer.weight!, layer.bias);

    /// <summary>y = x Wᵀ + b (e.g. an output layer tied to an embedding), in the compute precision.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (compute is not { } type) return nn.functional.linear(x, weight, bias);
        using var scope = NewDisposeScope();
        return nn.functional.linear(x.to(type), weight.to(type), bias?.to(type)).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The fused attention kernel in the compute precision (it accumulates its softmax in float32 either way).</summary>
    /// <param name="query"><c>[batch, heads, query time, d_k]</c>; key and value <c>[batch, heads, key time, d_k]</c>.</param>
    public static Tensor Attention(Tensor query, Tensor key, Tensor value, Tensor? mask, double dropout)
    {
        if (compute is not { } type) return nn.functional.scaled_dot_product_attention(query, key, value, mask, dropout, is_casual: false);
        using var scope = NewDisposeScope();
        return nn.functional.scaled_dot_product_attention(query.to(type), key.to(type), value.to(type), mask, dropout, is_casual: false)
            .to(query.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Why <paramref name="precision"/> cannot run well on <paramref name="device"/>, or null if it can. bfloat16 on a CPU
    /// needs native bfloat16 arithmetic (x86: AVX512_BF16 or AMX-BF16; Arm: the BF16 extension); without it LibTorch
    /// emulates it, slower than float32 — so the setting refuses rather than silently slowing a run down.
    /// </summary>
    public static string? Unsupported(Precision precision, Device device) => Unsupported(precision, device, CpuFlags());

    /// <summary>As <see cref="Unsupported(Precision, Device)"/>, for a CPU with these feature <paramref name="flags"/> (null: unknown).</summary>
    public static string? Unsupported(Precision precision, Device device, IReadOnlySet<string>? flags)
    {
        if (precision == Precision.Fp32 || device.type != DeviceType.CPU) return null;
        if (flags is null) return "precision=bf16 needs a CPU with native bfloat16 arithmetic, and this system does not say whether it has one (no /proc/cpuinfo); use precision=fp32.";
        string[] native = ["avx512_bf16", "amx_bf16", "bf16"];
        return native.Any(flags.Contains) ? null
            : "precision=bf16 needs a CPU with native bfloat16 arithmetic (x86 AVX512_BF16 or AMX-BF16, Arm BF16); this one has none, so bfloat16 would be emulated and slower than float32. Use precision=fp32.";
    }

    static HashSet<string>? CpuFlags() => MachineProfile.CpuFlags();
}
