using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// Low-rank attention (Wang et al. 2020, Linformer): keys and values are projected along time from n positions to
/// <see cref="Rank"/> k with learned matrices E, F <c>[k, n_max]</c>, so the score matrix is n × k instead of n × n —
/// O(n·k) time and memory. Padded positions are zeroed before the projection, so they contribute nothing. There is no
/// causal form: the projection mixes all positions, future ones included (use it in an encoder).
/// </summary>
public sealed class LinformerAttention : SelfAttentionKernel
{
    readonly Parameter e, f;

    public long Rank { get; }
    public long MaxLength { get; }

    public LinformerAttention(long rank, long maxLength) : base(nameof(LinformerAttention))
    {
        if (rank < 1 || maxLength < 1) throw new ArgumentException($"rank ({rank}) and max length ({maxLength}) must be positive.");
        Rank = rank;
        MaxLength = maxLength;
        // Standalone, as the paper initialises them: N(0, 1/k), so that a projected key keeps about the scale of a key. Inside
        // a model, Initialisation.Glorot re-draws them like every other matrix.
        e = new Parameter(torch.randn(rank, maxLength) / Math.Sqrt(rank));
        f = new Parameter(torch.randn(rank, maxLength) / Math.Sqrt(rank));
        RegisterComponents();
    }

    /// <param name="query"><c>[batch, heads, time, d_k]</c>; key and value the same time, at most <see cref="MaxLength"/>.</param>
    /// <param name="keyMask">boolean broadcastable to <c>[batch, 1, 1, time]</c>, true = a real key; null = all real.</param>
    /// <returns><c>[batch, heads, time, d_v]</c></returns>
    public override Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask) => forward(query, key, value, keyMask);

    /// <inheritdoc cref="Attend"/>
    public Tensor forward(Tensor query, Tensor key, Tensor value, Tensor? keyMask = null)
    {
        long time = key.shape[2];
        if (time > MaxLength) throw new ArgumentException($"Linformer projects at most {MaxLength} positions (got {time}); raise its max length.");
        using var scope = NewDisposeScope();
        if (keyMask is not null)
        {
            var real = keyMask.squeeze(-2).unsqueeze(-1).to(key.dtype); // [b, 1, t, 1]
            (key, value) = (key * real, value * real);
        }
        var projectKeys = e[.., ..(int)time];
        var projectValues = f[.., ..(int)time];
        var k = projectKeys.matmul(key);   // [b, h, k, d_k]
        var v = projectValues.matmul(value);
        return nn.functional.scaled_dot_product_attention(query, k, v).MoveToOuterDisposeScope();
    }
}
