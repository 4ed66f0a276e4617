using TorchSharp;
using TransformerLab.Model;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>The pointer-generator mixture (See et al. 2017) at its limits and in between, by hand.</summary>
public sealed class PointerGeneratorTests
{
    const long D = 8, V = 10;

    // one row, two output positions, four source positions holding ids 5, 7, 5 and the source-only word V (= extended id 10)
    static readonly long[] SourceIds = [5, 7, 5, V];
    static readonly float[] Attention = [0.1f, 0.2f, 0.1f, 0.6f, 0.7f, 0.1f, 0.1f, 0.1f];

    static (Tensor LogP, Tensor PGen, Tensor Logits) Mix(double gateBias, long extended = V + 1)
    {
        TorchRuntime.Seed(1);
        using var pointer = new PointerGenerator(D);
        using (torch.no_grad()) { pointer.Gate.weight!.zero_(); pointer.Gate.bias!.fill_(gateBias); }
        var logits = torch.randn(1, 2, V);
        var attention = torch.tensor(Attention, [1, 2, 4]);
        var (logP, pGen) = pointer.forward(logits, attention, torch.randn(1, 2, D), torch.randn(1, 4, D), torch.randn(1, 2, D),
            torch.tensor(SourceIds, [1, 4]), extended);
        return (logP, pGen, logits);
    }

    [Fact]
    public void With_p_gen_one_it_is_the_plain_output_layer()
    {
        var (logP, pGen, logits) = Mix(gateBias: 40);
        Assert.True(pGen.gt(0.999999).all().item<bool>());
        Assert.True(logP[.., .., ..(int)V].allclose(logits.log_softmax(-1), atol: 1e-5));
        Assert.True(logP[.., .., (int)V].lt(-15).all().item<bool>()); // the source-only word: copied with weight 1 − p_gen ≈ 0
    }

    [Fact]
    public void With_p_gen_zero_it_is_the_attention_summed_per_source_word()
    {
        var (logP, _, _) = Mix(gateBias: -40);
        var p = logP.exp();
        // position 0: ids 5, 7, 5, V with 0.1, 0.2, 0.1, 0.6 → P(5) = 0.2, P(7) = 0.2, P(V) = 0.6
        Assert.Equal(0.2f, p[0, 0, 5].item<float>(), 5);
        Assert.Equal(0.2f, p[0, 0, 7].item<float>(), 5);
        Assert.Equal(0.6f, p[0, 0, (int)V].item<float>(), 5);
        Assert.Equal(0.8f, p[0, 1, 5].item<float>(), 5);
        Assert.True(p[0, 0, 0].item<float>() < 1e-6f); // a word not in the source has no copy mass
    }

    [Fact]
    public void In_between_it_is_a_distribution_that_can_produce_a_source_only_word()
    {
        var (logP, pGen, _) = Mix(gateBias: 0); // σ(0) = ½
        Assert.True(pGen.allclose(torch.full(1, 2, 0.5f)));
        var p = logP.exp();
        Assert.True(p.sum(-1).allclose(torch.ones(1, 2), atol: 1e-5));
        // P(V) = ½ · 0.6 at position 0: the output layer has no row for it, only the pointer can produce it
        Assert.Equal(0.3f, p[0, 0, (int)V].item<float>(), 5);
        var (tilted, _, _) = Mix(gateBias: -3); // p_gen ≈ 0.047: copying dominates, and the source-only word wins position 0
        Assert.Equal(V, tilted[0, 0].argmax().item<long>());
    }

    [Fact]
    public void The_loss_of_a_copied_word_trains_the_gate_and_the_attention()
    {
        TorchRuntime.Seed(2);
        using var pointer = new PointerGenerator(D);
        var attention = torch.tensor(Attention, [1, 2, 4]).requires_grad_();
        var (logP, _) = pointer.forward(torch.randn(1, 2, V), attention, torch.randn(1, 2, D), torch.randn(1, 4, D), torch.randn(1, 2, D),
            torch.tensor(SourceIds, [1, 4]), V + 1);
        (-logP[0, 0, (int)V]).backward();
        Assert.True(pointer.Gate.weight!.grad!.abs().sum().item<float>() > 0);
        Assert.True(attention.grad![0, 0, 3].item<float>() < 0); // more weight on the position holding the word lowers its loss
    }
}
