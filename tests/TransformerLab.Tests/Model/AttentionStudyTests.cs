using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

/// <summary>The measurement helpers the notebooks use for attention.</summary>
public class AttentionStudyTests
{
    public AttentionStudyTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void One_query_at_a_time_equals_the_matrix_form()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var (q, k, v) = (torch.randn(5, 8), torch.randn(7, 8), torch.randn(7, 3));
        var (output, weights) = ScaledDotProductAttention.OneQueryAtATime(q, k, v);
        var (expectedOutput, expectedWeights) = ScaledDotProductAttention.Explicit(q, k, v);
        AssertClose(expectedWeights, weights);
        AssertClose(expectedOutput, output);
    }

    [Fact]
    public void Unscaled_scores_spread_as_sqrt_dk_and_saturate_the_softmax()
    {
        var scaled = ScalingStudy.Measure(256, scaled: true, queries: 256, seed: 2);
        var unscaled = ScalingStudy.Measure(256, scaled: false, queries: 256, seed: 2);
        Assert.InRange(scaled.ScoreStd, 0.9, 1.1);
        Assert.InRange(unscaled.ScoreStd, 0.9 * 16, 1.1 * 16);
        Assert.True(unscaled.Entropy < scaled.Entropy / 4);
        Assert.True(unscaled.GradientNorm < scaled.GradientNorm / 2);
        Assert.True(unscaled.MaxWeight > 0.8);
    }

    [Fact]
    public void Head_profiles_read_sharp_diagonal_and_previous_token_heads()
    {
        // head 0 attends to itself, head 1 to the previous token (the first query to itself), head 2 uniformly
        const int t = 5;
        var same = torch.eye(t);
        var previous = torch.zeros(t, t);
        previous[0, 0] = 1;
        for (int i = 1; i < t; i++) previous[i, i - 1] = 1;
        var uniform = torch.full(t, t, 1.0f / t);
        var weights = torch.stack([same, previous, uniform]).unsqueeze(0); // [1, 3, t, t]
        var profiles = AttentionStatistics.Profiles(weights, layer: 0);
        Assert.Equal(1.0, profiles[0].Same, 6);
        Assert.Equal(0.0, profiles[0].Entropy, 6);
        Assert.Equal(1.0, profiles[1].Previous, 6);
        Assert.Equal(-(t - 1.0) / t, profiles[1].MeanOffset, 6);
        Assert.Equal(Math.Log(t), profiles[2].Entropy, 5);
        Assert.Equal(0.0, profiles[2].MeanOffset, 6);
    }
}
