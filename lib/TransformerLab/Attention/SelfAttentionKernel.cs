using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>Which attention an encoder's self-attention computes: the paper's, or one that scales below n² (see each kernel).</summary>
public enum AttentionKind { Full, Local, Strided, Linear, Linformer }

/// <summary>
/// An efficient replacement for softmax(QKᵀ/√d)V inside <see cref="MultiHeadAttention"/>, for self-attention over one
/// padded sequence (an encoder's): the projections and heads stay the module's, only the mixing over time changes.
/// The full kernel is no kernel: <see cref="Create"/> returns null for it, and the module runs the fused SDPA kernel.
/// </summary>
public abstract class SelfAttentionKernel(string name) : nn.Module(name)
{
    /// <param name="query"><c>[batch, heads, time, d_k]</c>; key and value the same time.</param>
    /// <param name="keyMask">boolean broadcastable to <c>[batch, 1, 1, time]</c>, true = a real key; null = all real.</param>
    /// <returns><c>[batch, heads, time, d_v]</c></returns>
    public abstract Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask);

    /// <summary>
    /// The kernel for <paramref name="kind"/>, reading its own parameter: local attention the <paramref name="window"/> r,
    /// strided attention the <paramref name="stride"/>, Linformer the <paramref name="rank"/> k (its projections sized for
    /// <paramref name="maxLength"/> positions). Null for full attention.
    /// </summary>
    public static SelfAttentionKernel? Create(AttentionKind kind, long window, long stride, long rank, long maxLength) => kind switch
    {
        AttentionKind.Full => null,
        AttentionKind.Local => new Local(window),
        AttentionKind.Strided => new Strided(stride),
        AttentionKind.Linear => new Linear(),
        AttentionKind.Linformer => new LinformerAttention(rank, maxLength),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    sealed class Local(long window) : SelfAttentionKernel("LocalAttention")
    {
        public override Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask) => LocalAttention.Forward(query, key, value, window, causal: false, keyMask);
    }

    sealed class Strided(long stride) : SelfAttentionKernel("StridedSparseAttention")
    {
        public override Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask) => StridedSparseAttention.Forward(query, key, value, stride, causal: false, keyMask);
    }

    sealed class Linear() : SelfAttentionKernel("LinearAttention")
    {
        public override Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask) => LinearAttention.Forward(query, key, value, keyMask);
    }
}
