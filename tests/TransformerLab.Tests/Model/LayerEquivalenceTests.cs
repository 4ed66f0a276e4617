using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

/// <summary>Our layers against TorchSharp's nn.TransformerEncoderLayer / TransformerDecoderLayer with copied weights.</summary>
public class LayerEquivalenceTests
{
    public LayerEquivalenceTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Post_LN_encoder_layer_matches_torch_TransformerEncoderLayer()
    {
        TorchRuntime.Seed(11);
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig();
        var theirs = nn.TransformerEncoderLayer(c.DModel, c.Heads, c.DFF, 0.0);
        var ours = new EncoderLayer(c);
        var p = Parameters(theirs);
        ours.SelfAttention.CopyFrom(p, "self_attn.");
        ours.FeedForward.CopyFrom(p);
        ours.Sublayers.Attention.Norm.CopyFrom(p, "norm1");
        ours.Sublayers.FeedForward.Norm.CopyFrom(p, "norm2");
        theirs.eval();
        ours.eval();

        var x = torch.randn(3, 6, c.DModel);
        var keep = Masks.PaddingFromLengths(torch.tensor(new long[] { 6, 4, 2 }), 6);
        var output = ours.forward(x, keep);
        var expected = theirs.call(x.transpose(0, 1), null!, keep.view(3, 6).logical_not()).transpose(0, 1);
        AssertClose(expected, output);
    }

    [Fact]
    public void Post_LN_decoder_layer_matches_torch_TransformerDecoderLayer()
    {
        TorchRuntime.Seed(12);
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig();
        var theirs = nn.TransformerDecoderLayer(c.DModel, c.Heads, c.DFF, 0.0);
        var ours = new DecoderLayer(c);
        var p = Parameters(theirs);
        ours.SelfAttention.CopyFrom(p, "self_attn.");
        ours.CrossAttention.CopyFrom(p, "multihead_attn.");
        ours.FeedForward.CopyFrom(p);
        ours.Sublayers.Self.Norm.CopyFrom(p, "norm1");
        ours.Sublayers.Cross.Norm.CopyFrom(p, "norm2");
        ours.Sublayers.FeedForward.Norm.CopyFrom(p, "norm3");
        theirs.eval();
        ours.eval();

        var y = torch.randn(2, 5, c.DModel);       // target, 5 steps
        var memory = torch.randn(2, 8, c.DModel);  // source, 8 steps: another length
        var memoryKeep = Masks.PaddingFromLengths(torch.tensor(new long[] { 8, 5 }), 8);
        var output = ours.forward(y, memory, Masks.Causal(5), memoryKeep);
        var expected = theirs.call(y.transpose(0, 1), memory.transpose(0, 1),
            TorchCausalMask(5), null!, null!, memoryKeep.view(2, 8).logical_not()).transpose(0, 1);
        AssertClose(expected, output);
    }

    [Fact]
    public void Pre_LN_encoder_layer_matches_a_hand_composed_reference()
    {
        TorchRuntime.Seed(13);
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig(NormPlacement.Pre);
        var ours = new EncoderLayer(c);
        var attention = nn.MultiheadAttention(c.DModel, c.Heads, dropout: 0.0);
        ours.SelfAttention.CopyFrom(attention);
        ours.eval();
        attention.eval();
        // Non-trivial norm parameters, so that a skipped norm would show.
        foreach (var norm in new[] { ours.Sublayers.Attention.Norm, ours.Sublayers.FeedForward.Norm }.Cast<TorchSharp.Modules.LayerNorm>())
        {
            Copy(norm.weight!, torch.rand(c.DModel) + 0.5);
            Copy(norm.bias!, torch.randn(c.DModel) * 0.1);
        }

        var x = torch.randn(2, 6, c.DModel);
        Tensor Norm(nn.Module<Tensor, Tensor> m, Tensor t) { var n = (TorchSharp.Modules.LayerNorm)m; return nn.functional.layer_norm(t, [c.DModel], n.weight, n.bias, 1e-5); }
        // x + Attention(LN₁(x)), then + FFN(LN₂(·)): Xiong et al. (2020), figure 1(b).
        var n1 = Norm(ours.Sublayers.Attention.Norm, x).transpose(0, 1);
        var h = x + attention.forward(n1, n1, n1, null, false, null).Item1.transpose(0, 1);
        var (l1, l2) = ours.FeedForward.Layers;
        var expected = h + nn.functional.linear(nn.functional.relu(nn.functional.linear(Norm(ours.Sublayers.FeedForward.Norm, h), l1.weight!, l1.bias)), l2.weight!, l2.bias);

        AssertClose(expected, ours.forward(x, null));
    }
}
