using TorchSharp;
using TransformerLab.Attention;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>One encoder layer: self-attention, then the position-wise feed-forward network, each a residual sub-layer.</summary>
public sealed class EncoderLayer : nn.Module
{
    readonly MultiHeadAttention self_attn;
    readonly PositionwiseFeedForward feed_forward;
    readonly ResidualConnection attn_sublayer, ff_sublayer;

    public EncoderLayer(TransformerConfig c) : base(nameof(EncoderLayer))
    {
        self_attn = new MultiHeadAttention(c.DModel, c.Heads, c.AttentionDropout, kernel: SelfAttentionKernel.Create(c.Attention, c.AttentionWindow, c.AttentionStride, c.AttentionRank, c.MaxLength));
        feed_forward = new PositionwiseFeedForward(c.DModel, c.DFF, c.Dropout, c.Activation);
        attn_sublayer = new ResidualConnection(c.DModel, c.Dropout, c.Norm, c.Normalization);
        ff_sublayer = new ResidualConnection(c.DModel, c.Dropout, c.Norm, c.Normalization);
        RegisterComponents();
    }

    public MultiHeadAttention SelfAttention => self_attn;
    public PositionwiseFeedForward FeedForward => feed_forward;
    public (ResidualConnection Attention, ResidualConnection FeedForward) Sublayers => (attn_sublayer, ff_sublayer);

    /// <param name="x"><c>[batch, source time, d_model]</c></param>
    /// <param name="sourceMask">true = may attend, e.g. <c>[batch, 1, 1, source time]</c> from <see cref="Masks.Padding"/>.</param>
    public Tensor forward(Tensor x, Tensor? sourceMask)
    {
        using var scope = NewDisposeScope();
        var h = attn_sublayer.forward(x, t => self_attn.forward(t, t, t, sourceMask));
        return ff_sublayer.forward(h, feed_forward.forward).MoveToOuterDisposeScope();
    }
}
