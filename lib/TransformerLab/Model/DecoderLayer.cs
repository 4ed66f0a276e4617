using TorchSharp;
using TransformerLab.Attention;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// One decoder layer: masked self-attention over the target so far, cross-attention to the encoder's output
/// (queries from the decoder, keys and values from the encoder), then the feed-forward network.
/// </summary>
public sealed class DecoderLayer : nn.Module
{
    readonly MultiHeadAttention self_attn, cross_attn;
    readonly PositionwiseFeedForward feed_forward;
    readonly ResidualConnection self_sublayer, cross_sublayer, ff_sublayer;

    public DecoderLayer(TransformerConfig c) : base(nameof(DecoderLayer))
    {
        self_attn = new MultiHeadAttention(c.DModel, c.Heads, c.AttentionDropout);
        cross_attn = new MultiHeadAttention(c.DModel, c.Heads, c.AttentionDropout);
        feed_forward = new PositionwiseFeedForward(c.DModel, c.DFF, c.Dropout, c.Activation);
        self_sublayer = new ResidualConnection(c.DModel, c.Dropout, c.Norm, c.Normalization);
        cross_sublayer = new ResidualConnection(c.DModel, c.Dropout, c.Norm, c.Normalization);
        ff_sublayer = new ResidualConnection(c.DModel, c.Dropout, c.Norm, c.Normalization);
        RegisterComponents();
    }

    public MultiHeadAttention SelfAttention => self_attn;
    public MultiHeadAttention CrossAttention => cross_attn;
    public PositionwiseFeedForward FeedForward => feed_forward;
    public (ResidualConnection Self, ResidualConnection Cross, ResidualConnection FeedForward) Sublayers => (self_sublayer, cross_sublayer, ff_sublayer);

    /// <param name="y"><c>[batch, target time, d_model]</c> (one step when decoding incrementally).</param>
    /// <param name="memory">the encoder's output, <c>[batch, source time, d_model]</c>.</param>
    /// <param name="targetMask">true = may attend; <c>[batch, 1, target time, target time]</c>, causal. Null when
    /// decoding step by step (the cache holds only the past, so nothing can leak).</param>
    /// <param name="memoryMask">true = may attend; <c>[batch, 1, 1, source time]</c>.</param>
    /// <param name="cache">this layer's caches when decoding step by step.</param>
    public Tensor forward(Tensor y, Tensor memory, Tensor? targetMask, Tensor? memoryMask, LayerCache? cache = null) =>
        Forward(y, memory, targetMask, memoryMask, cache, needCrossWeights: false).Output;

    /// <summary><see cref="forward"/>, and on request this pass's cross-attention weights <c>[batch, heads, target time, source time]</c>, with their gradient.</summary>
    public (Tensor Output, Tensor? CrossWeights) Forward(Tensor y, Tensor memory, Tensor? targetMask, Tensor? memoryMask, LayerCache? cache, bool needCrossWeights)
    {
        using var scope = NewDisposeScope();
        Tensor? crossWeights = null;
        var h = self_sublayer.forward(y, t => self_attn.forward(t, t, t, targetMask, cache?.Self));
        h = cross_sublayer.forward(h, t =>
        {
            var (attended, weights) = cross_attn.Attend(t, memory, memory, memoryMask, cache?.Cross, needCrossWeights);
            crossWeights = weights?.MoveToOuterDisposeScope(); // out of the residual connection's scope, into this pass's
            return attended;
        });
        return (ff_sublayer.forward(h, feed_forward.forward).MoveToOuterDisposeScope(), crossWeights?.MoveToOuterDisposeScope());
    }
}

/// <summary>One decoder layer's key/value caches: self-attention grows per step, cross-attention is filled once.</summary>
public sealed class LayerCache : IDisposable
{
    public KeyValueCache Self { get; } = new();
    public KeyValueCache Cross { get; } = new(isStatic: true);

    public void Reorder(Tensor indices)
    {
        Self.Reorder(indices);
        Cross.Reorder(indices);
    }

    public void Dispose()
    {
        Self.Dispose();
        Cross.Dispose();
    }
}
