using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"): softmax(q·k) is replaced by the kernel
/// φ(q)·φ(k) with the positive feature map φ(x) = elu(x) + 1, so that
/// out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j) — the sums are computed once, O(n·d²) instead of O(n²·d).
/// Causal, the sums run over j ≤ i: <see cref="Causal"/> computes them in parallel (prefix sums), <see cref="Step"/>
/// one token at a time with a state of fixed size (S = Σ φ(k) vᵀ, z = Σ φ(k)) — an RNN, O(1) memory per decoding step.
/// A test holds the two equal.
/// </summary>
public static class LinearAttention
{
    /// <summary>Keeps the denominator away from 0 (φ is positive, but a sum over no keys is 0).</summary>
    const double Epsilon = 1e-6;

    /// <summary>φ(x) = elu(x) + 1 &gt; 0.</summary>
    public static Tensor FeatureMap(Tensor x) => nn.functional.elu(x, alpha: 1.0, inplace: false) + 1;

    /// <summary>Every query attends to every (real) key.</summary>
    /// <param name="query"><c>[batch, heads, query time, d_k]</c></param>
    /// <param name="key"><c>[batch, heads, key time, d_k]</c></param>
    /// <param name="value"><c>[batch, heads, key time, d_v]</c></param>
    /// <param name="keyMask">boolean broadcastable to <c>[batch, 1, 1, key time]</c>, true = a real key; null = all real.</param>
    /// <returns><c>[batch, heads, query time, d_v]</c></returns>
    public static Tensor Forward(Tensor query, Tensor key, Tensor value, Tensor? keyMask = null)
    {
        using var scope = NewDisposeScope();
        var q = FeatureMap(query);
        var k = Masked(FeatureMap(key), keyMask);
        var kv = k.transpose(-2, -1).matmul(value);                    // Σ_j φ(k_j) v_jᵀ: [b, h, d_k, d_v]
        var normaliser = q.matmul(k.sum(-2).unsqueeze(-1)) + Epsilon;   // φ(q_i)ᵀ Σ_j φ(k_j): [b, h, t, 1]
        return (q.matmul(kv) / normaliser).MoveToOuterDisposeScope();
    }

    /// <summary>The causal form, all positions at once: query i reads keys j ≤ i (prefix sums over time). Shapes as <see cref="Forward"/>, self-attention.</summary>
    public static Tensor Causal(Tensor query, Tensor key, Tensor value, Tensor? keyMask = null)
    {
        using var scope = NewDisposeScope();
        var q = FeatureMap(query);
        var k = Masked(FeatureMap(key), keyMask);
        var kv = (k.unsqueeze(-1) * value.unsqueeze(-2)).cumsum(2);     // S_i = Σ_{j≤i} φ(k_j) v_jᵀ: [b, h, t, d_k, d_v]
        var z = k.cumsum(2);                                             // z_i = Σ_{j≤i} φ(k_j): [b, h, t, d_k]
        var numerator = q.unsqueeze(-2).matmul(kv).squeeze(-2);         // [b, h, t, d_v]
        var normaliser = (q * z).sum(-1, keepdim: true) + Epsilon;
        return (numerator / normaliser).MoveToOuterDisposeScope();
    }

    /// <summary>The recurrent state of causal linear attention: S = Σ φ(k) vᵀ <c>[batch, heads, d_k, d_v]</c> and z = Σ φ(k) <c>[batch, heads, d_k]</c>.</summary>
    public sealed class State : IDisposable
    {
        public Tensor? S { get; private set; }
        public Tensor? Z { get; private set; }

        internal void Add(Tensor kv, Tensor k)
        {
            var (s, z) = (S is null ? kv.clone() : S + kv, Z is null ? k.clone() : Z + k);
            S?.Dispose();
            Z?.Dispose();
            (S, Z) = (s.DetachFromDisposeScope(), z.DetachFromDisposeScope());
        }

        public void Dispose()
        {
            S?.Dispose();
            Z?.Dispose();
        }
    }

    /// <summary>
    /// One decoding step of the causal form: adds this token's key and value to <paramref name="state"/> and reads it
    /// with the query. The state's size does not grow with the number of steps.
    /// </summary>
    /// <param name="query"><c>[batch, heads, 1, d_k]</c>; key <c>[batch, heads, 1, d_k]</c>; value <c>[batch, heads, 1, d_v]</c>.</param>
    /// <returns><c>[batch, heads, 1, d_v]</c></returns>
    public static Tensor Step(Tensor query, Tensor key, Tensor value, State state)
    {
        using var scope = NewDisposeScope();
        var q = FeatureMap(query).squeeze(2);                                   // [b, h, d_k]
        var k = FeatureMap(key).squeeze(2);
        state.Add(k.unsqueeze(-1) * value.squeeze(2).unsqueeze(-2), k);
        var numerator = q.unsqueeze(-2).matmul(state.S!).squeeze(-2);          // [b, h, d_v]
        var normaliser = (q * state.Z!).sum(-1, keepdim: true) + Epsilon;
        return (numerator / normaliser).unsqueeze(2).MoveToOuterDisposeScope();
    }

    /// <summary>Feature vectors of padded keys set to 0: they add nothing to either sum.</summary>
    static Tensor Masked(Tensor features, Tensor? keyMask) =>
        keyMask is null ? features : features * keyMask.squeeze(-2).unsqueeze(-1).to(features.dtype); // [b, 1, t, 1]
}
