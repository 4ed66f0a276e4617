using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

public class AttentionTests
{
    public AttentionTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Attention_matches_a_hand_computation()
    {
        // One query, two keys: scores q·k / √2 = [1/√2, 0]; weights = softmax; output = weighted values.
        using var q = torch.tensor(new float[] { 1, 0 }, [1, 1, 1, 2]);
        using var k = torch.tensor(new float[] { 1, 0, 0, 1 }, [1, 1, 2, 2]);
        using var v = torch.tensor(new float[] { 10, 0, 0, 10 }, [1, 1, 2, 2]);
        var (output, weights) = ScaledDotProductAttention.Forward(q, k, v, needWeights: true);
        double a = Math.Exp(1 / Math.Sqrt(2)), b = 1.0;
        double w0 = a / (a + b), w1 = b / (a + b);
        Assert.Equal(w0, weights!.data<float>()[0], 5);
        Assert.Equal(w1, weights.data<float>()[1], 5);
        Assert.Equal(10 * w0, output.data<float>()[0], 4);
        Assert.Equal(10 * w1, output.data<float>()[1], 4);
    }

    public static TheoryData<string> MaskKinds => new() { "none", "padding", "causal", "causal+padding" };

    [Theory]
    [MemberData(nameof(MaskKinds))]
    public void Fused_and_explicit_paths_agree(string maskKind)
    {
        TorchRuntime.Seed(3);
        using var scope = torch.NewDisposeScope();
        var (q, k, v) = (torch.randn(2, 4, 6, 8), torch.randn(2, 4, 6, 8), torch.randn(2, 4, 6, 8));
        var padding = Masks.PaddingFromLengths(torch.tensor(new long[] { 6, 3 }), 6);
        var mask = maskKind switch
        {
            "none" => null,
            "padding" => padding,
            "causal" => Masks.Causal(6),
            _ => Masks.Combine(Masks.Causal(6), padding),
        };
        var (fused, none) = ScaledDotProductAttention.Forward(q, k, v, mask);
        var (explicitOut, weights) = ScaledDotProductAttention.Explicit(q, k, v, mask);
        Assert.Null(none);
        AssertClose(explicitOut, fused);
        if (mask is not null) // a key the mask forbids gets exactly zero weight
            Assert.Equal(0.0, weights.masked_select(mask.logical_not().expand_as(weights)).abs().sum().ToDouble());
    }

    [Fact]
    public void Unscaled_attention_saturates_the_softmax()
    {
        TorchRuntime.Seed(4);
        using var scope = torch.NewDisposeScope();
        var q = torch.randn(1, 1, 16, 512);
        var k = torch.randn(1, 1, 16, 512);
        var (_, scaled) = ScaledDotProductAttention.Forward(q, k, k, scaled: true, needWeights: true);
        var (_, unscaled) = ScaledDotProductAttention.Forward(q, k, k, scaled: false, needWeights: true);
        // With d_k = 512, unscaled scores have sd ≈ 22: rows close to one-hot (this seed: mean max weight 0.91, against 0.21 scaled).
        Assert.True(unscaled!.max(-1).values.mean().ToDouble() > 0.8);
        Assert.True(scaled!.max(-1).values.mean().ToDouble() < 0.4);
    }

    [Fact]
    public void Heads_must_divide_d_model_and_the_error_names_both()
    {
        var e = Assert.Throws<ArgumentException>(() => new MultiHeadAttention(10, 3));
        Assert.Contains("10", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void Split_heads_keeps_each_time_step_intact()
    {
        // The seed note's bug: view(B, H, T, D/H) without the transpose puts several time steps into one head.
        using var mha = new MultiHeadAttention(8, 2);
        using var x = torch.arange(2 * 3 * 8, dtype: ScalarType.Float32).view(2, 3, 8); // [batch, time, d_model]
        using var heads = mha.SplitHeads(x);                                           // [batch, heads, time, d_head]
        Assert.Equal(new long[] { 2, 2, 3, 4 }, heads.shape);
        for (int b = 0; b < 2; b++)
        for (int h = 0; h < 2; h++)
        for (int t = 0; t < 3; t++)
            AssertClose(x[b, t].narrow(0, h * 4, 4), heads[b, h, t], atol: 0);
        AssertClose(x, mha.MergeHeads(heads), atol: 0);
        // The wrong split differs: its "head 0" of batch 0 spans time steps 0 and 1.
        using var wrong = x.view(2, 2, 3, 4);
        Assert.False(wrong.allclose(heads));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Multi_head_attention_matches_torch_MultiheadAttention(bool causal)
    {
        TorchRuntime.Seed(5);
        using var scope = torch.NewDisposeScope();
        var theirs = nn.MultiheadAttention(16, 4, dropout: 0.0);
        var ours = new MultiHeadAttention(16, 4) { RecordWeights = true };
        ours.CopyFrom(theirs);
        theirs.eval();
        ours.eval();

        var query = torch.randn(2, 5, 16);                          // [batch, query time, d_model]
        var memory = causal ? query : torch.randn(2, 7, 16);       // self- or cross-attention (another length)
        long keyTime = memory.shape[1];
        var keep = Masks.PaddingFromLengths(torch.tensor(new long[] { keyTime, keyTime - 2 }), keyTime); // [batch, 1, 1, key time]
        var mask = causal ? Masks.Combine(keep, Masks.Causal(keyTime)) : keep;

        var output = ours.forward(query, memory, memory, mask);
        // TorchSharp's module: [time, batch, d_model]; masks mean "true = ignore"; weights are averaged over heads.
        var (expected, expectedWeights) = theirs.forward(query.transpose(0, 1), memory.transpose(0, 1), memory.transpose(0, 1),
            key_padding_mask: keep.view(2, keyTime).logical_not(), need_weights: true,
            attn_mask: causal ? TorchCausalMask(keyTime) : null);

        AssertClose(expected.transpose(0, 1), output);
        AssertClose(expectedWeights, ours.LastWeights!.mean([1]));
        Assert.Equal(new long[] { 2, 4, 5, keyTime }, ours.LastWeights!.shape);
    }

    [Fact]
    public void The_study_notes_view_only_split_is_told_apart_from_multi_head_attention()
    {
        // The GitBook code (seed 001) splits heads with view(B, -1, H, d_k) and no transpose. Same weights, same input:
        TorchRuntime.Seed(11);
        using var scope = torch.NewDisposeScope();
        var theirs = nn.MultiheadAttention(16, 4, dropout: 0.0);
        var ours = new MultiHeadAttention(16, 4);
        ours.CopyFrom(theirs);
        theirs.eval();
        ours.eval();
        var x = torch.randn(1, 6, 16);
        var (reference, _) = theirs.forward(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), null, false, null);
        var (notes, weights) = ViewOnlyHeadSplit.Forward(ours, x, x, x);

        // Its weights are heads × heads per token, not time × time per head ...
        Assert.Equal(new long[] { 1, 6, 4, 4 }, weights.shape);
        // ... so it is not multi-head attention: the comparison with TorchSharp that ours passes fails for it.
        Assert.True((notes - reference.transpose(0, 1)).abs().max().item<float>() > 0.05f);
        AssertClose(reference.transpose(0, 1), ours.forward(x, x, x));

        // And no token sees another: change token 0 and only output 0 moves (ours moves every output).
        var changed = x.clone();
        changed[0, 0] = torch.randn(16);
        var notesMoved = (ViewOnlyHeadSplit.Forward(ours, changed, changed, changed).Output - notes).abs().amax([2]).squeeze(0);
        var oursMoved = (ours.forward(changed, changed, changed) - ours.forward(x, x, x)).abs().amax([2]).squeeze(0);
        Assert.True(notesMoved[0].item<float>() > 1e-3f);
        Assert.Equal(0f, notesMoved[1..].max().item<float>());
        Assert.True(oursMoved[1..].min().item<float>() > 1e-5f);
    }

    [Fact]
    public void Masks_have_the_documented_shapes_and_meaning()
    {
        using var scope = torch.NewDisposeScope();
        var causal = Masks.Causal(4);
        Assert.Equal(new long[] { 1, 1, 4, 4 }, causal.shape);
        Assert.True(causal[0, 0, 2, 2].ToBoolean());
        Assert.False(causal[0, 0, 1, 2].ToBoolean()); // position 1 may not see position 2

        var tokens = torch.tensor(new long[] { 5, 6, 0, 0, 7, 0, 0, 0 }, [2, 4]);
        var byPad = Masks.Padding(tokens, padId: 0);
        var byLength = Masks.PaddingFromLengths(torch.tensor(new long[] { 2, 1 }), 4);
        Assert.Equal(new long[] { 2, 1, 1, 4 }, byPad.shape);
        Assert.True(Identical(byPad, byLength));

        var decoder = Masks.Decoder(tokens, padId: 0);
        Assert.Equal(new long[] { 2, 1, 4, 4 }, decoder.shape);
        Assert.True(decoder[0, 0, 3, 1].ToBoolean());
        Assert.False(decoder[0, 0, 3, 2].ToBoolean()); // padding
        Assert.False(decoder[0, 0, 0, 1].ToBoolean()); // future
    }
}
