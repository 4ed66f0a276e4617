using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// MultiHead(Q, K, V) = Concat(head₁, …, head_h) W^O, headᵢ = Attention(Q Wᵢ^Q, K Wᵢ^K, V Wᵢ^V)
/// (Vaswani et al. 2017, §3.2.2). Each head works in d_model / h dimensions, so h heads cost about as much as one
/// full-width head.
/// <para>
/// Used as self-attention (query = key = value), as masked decoder self-attention, and as cross-attention
/// (keys and values from the encoder's output, of another length). With a <see cref="KeyValueCache"/>, a decoder
/// step projects only its new token and attends over the cached keys and values of earlier steps.
/// </para>
/// </summary>
public sealed class MultiHeadAttention : nn.Module
{
    readonly Linear w_q, w_k, w_v, w_o;
    readonly SelfAttentionKernel? kernel; // null: the paper's attention (the fused SDPA kernel)
    readonly double _dropout;

    public long DModel { get; }
    public long Heads { get; }
    public long HeadDim { get; }

    /// <summary>Divide scores by √d_k (the paper). False only for the notebooks' saturation demo.</summary>
    public bool Scaled { get; set; } = true;

    /// <summary>
    /// When true, each forward pass keeps its per-head weights in <see cref="LastWeights"/> (and takes the explicit
    /// path to compute them). For plots; off by default, because the fused kernel is faster.
    /// </summary>
    public bool RecordWeights { get; set; }

    /// <summary>The weights of the last forward pass, <c>[batch, heads, query time, key time]</c>, when recorded.</summary>
    public Tensor? LastWeights { get; private set; }

    /// <param name="kernel">an efficient self-attention kernel in place of softmax(QKᵀ/√d)V (encoder self-attention; uncached); null = the paper's.</param>
    public MultiHeadAttention(long dModel, long heads, double dropout = 0.0, string name = "MultiHeadAttention", SelfAttentionKernel? kernel = null) : base(name)
    {
        if (dModel <= 0 || heads <= 0)
            throw new ArgumentException($"d_model ({dModel}) and heads ({heads}) must be positive.");
        if (dModel % heads != 0)
            throw new ArgumentException($"d_model ({dModel}) must be divisible by heads ({heads}): each head gets d_model / heads dimensions.");
        DModel = dModel;
        Heads = heads;
        HeadDim = dModel / heads;
        _dropout = dropout;
        w_q = nn.Linear(dModel, dModel);
        w_k = nn.Linear(dModel, dModel);
        w_v = nn.Linear(dModel, dModel);
        w_o = nn.Linear(dModel, dModel);
        this.kernel = kernel;
        RegisterComponents();
    }

    /// <summary>The query, key, value and output projections, in that order (for copying weights in tests).</summary>
    public (Linear Query, Linear Key, Linear Value, Linear Output) Projections => (w_q, w_k, w_v, w_o);

    /// <summary>Attends <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/>.</summary>
    /// <param name="query"><c>[batch, query time, d_model]</c></param>
    /// <param name="key"><c>[batch, key time, d_model]</c></param>
    /// <param name="value"><c>[batch, key time, d_model]</c></param>
    /// <param name="mask">boolean, true = may attend; broadcastable to <c>[batch, heads, query time, key time]</c>
    /// (over the full cached key time when a cache is used).</param>
    /// <param name="cache">incremental decoding: for self-attention the new keys/values are appended to it; for
    /// cross-attention (<see cref="KeyValueCache.Static"/>) they are computed once and reused.</param>
    /// <returns><c>[batch, query time, d_model]</c></returns>
    public Tensor forward(Tensor query, Tensor key, Tensor value, Tensor? mask = null, KeyValueCache? cache = null) =>
        Attend(query, key, value, mask, cache, needWeights: false).Output;

    /// <summary>
    /// <see cref="forward"/>, and on request the attention weights of this pass, <c>[batch, heads, query time, key time]</c>,
    /// still in the autograd graph: what an auxiliary loss on the alignment (guided attention) or a pointer (copying)
    /// reads. Asking for them takes the explicit path (the fused kernel has no weight matrix).
    /// </summary>
    /// <returns>the output <c>[batch, query time, d_model]</c>, and the weights when <paramref name="needWeights"/> (else null).</returns>
    public (Tensor Output, Tensor? Weights) Attend(Tensor query, Tensor key, Tensor value, Tensor? mask, KeyValueCache? cache, bool needWeights)
    {
        using var scope = NewDisposeScope();
        var q = SplitHeads(MixedPrecision.Linear(w_q, query));
        Tensor k, v;
        if (cache is { Static: true, Keys: not null })
        {
            (k, v) = (cache.Keys, cache.Values!);
        }
        else
        {
            k = SplitHeads(MixedPrecision.Linear(w_k, key));
            v = SplitHeads(MixedPrecision.Linear(w_v, value));
            if (cache is not null) (k, v) = cache.Append(k, v);
        }

        if (kernel is not null && cache is null)
        {
            if (RecordWeights || needWeights) throw new InvalidOperationException($"{kernel.GetName()} has no attention-weight matrix to return; attention weights need attention=full.");
            return (MixedPrecision.Linear(w_o, MergeHeads(kernel.Attend(q, k, v, mask))).MoveToOuterDisposeScope(), null);
        }
        var (heads, weights) = ScaledDotProductAttention.Forward(q, k, v, mask, Scaled, _dropout, training, needWeights: RecordWeights || needWeights);
        if (RecordWeights)
        {
            LastWeights?.Dispose();
            LastWeights = weights!.detach().DetachFromDisposeScope();
        }
        return (MixedPrecision.Linear(w_o, MergeHeads(heads)).MoveToOuterDisposeScope(), needWeights ? weights!.MoveToOuterDisposeScope() : null);
    }

    /// <summary><c>[batch, time, d_model]</c> → <c>[batch, heads, time, d_model / heads]</c>.</summary>
    /// <remarks>
    /// The transpose matters: a plain <c>view(batch, heads, time, d_head)</c> of <c>[batch, time, d_model]</c>
    /// (as some study notes write it) would make each "head" a slice of consecutive time steps, mixing positions.
    /// </remarks>
    public Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], Heads, HeadDim).transpose(1, 2);

    /// <summary><c>[batch, heads, time, d_head]</c> → <c>[batch, time, heads · d_head]</c>: the concatenation of heads.</summary>
    public Tensor MergeHeads(Tensor x) => x.transpose(1, 2).contiguous().view(x.shape[0], x.shape[2], DModel);

    /// <summary>Forgets recorded weights.</summary>
    public void ClearWeights()
    {
        LastWeights?.Dispose();
        LastWeights = null;
    }
}

/// <summary>
/// Keys and values of one attention layer kept across decoding steps, <c>[batch, heads, cached time, d_head]</c>.
/// Self-attention caches grow by one step per call; a static cache (cross-attention over a fixed encoder output)
/// is filled once. The tensors live outside any dispose scope until the cache is disposed.
/// </summary>
public sealed class KeyValueCache(bool isStatic = false) : IDisposable
{
    public bool Static { get; } = isStatic;
    public Tensor? Keys { get; private set; }
    public Tensor? Values { get; private set; }

    /// <summary>Number of cached time steps.</summary>
    public long Length => Keys?.shape[2] ?? 0;

    /// <summary>Appends one step's keys and values; returns the full cached keys and values.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
    {
        var k = (Keys is null ? keys.alias() : torch.cat([Keys, keys], 2)).DetachFromDisposeScope();
        var v = (Values is null ? values.alias() : torch.cat([Values, values], 2)).DetachFromDisposeScope();
        Keys?.Dispose();
        Values?.Dispose();
        (Keys, Values) = (k, v);
        return (k, v);
    }

    /// <summary>Keeps the batch rows <paramref name="indices"/> (<c>[new batch]</c>), in that order: beam search reorders hypotheses.</summary>
    public void Reorder(Tensor indices)
    {
        if (Keys is null) return;
        var k = Keys.index_select(0, indices).DetachFromDisposeScope();
        var v = Values!.index_select(0, indices).DetachFromDisposeScope();
        Keys.Dispose();
        Values.Dispose();
        (Keys, Values) = (k, v);
    }

    public void Dispose()
    {
        Keys?.Dispose();
        Values?.Dispose();
        (Keys, Values) = (null, null);
    }
}
