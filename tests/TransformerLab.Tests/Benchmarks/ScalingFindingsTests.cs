using TransformerLab.Benchmarks;
using Xunit;

namespace TransformerLab.Tests.Benchmarks;

/// <summary>The sentences notebooks 09 and 10 print under their cost tables, computed from hand-made measurements.</summary>
public sealed class ScalingFindingsTests
{
    static readonly long[] Lengths = [256, 1024, 4096];

    [Fact]
    public void Slopes_are_the_fitted_exponents_lowest_first_and_flat_ones_are_named()
    {
        var costs = Lengths.SelectMany(n => new[]
        {
            new AttentionCost("full, explicit scores", n, 1e-6 * n * n, 16.0 * n * n / 1e6),
            new AttentionCost("full, fused kernel", n, 1e-5 * n * n, -0.01),
            new AttentionCost("linear (elu + 1)", n, 1e-3 * n, 1.0),
            new AttentionCost("flat", n, 5.0, double.NaN),
        }).ToList();
        var findings = AttentionScaling.Findings(costs);
        Assert.Equal("Fitted time slopes (log–log; 1 is linear, 2 quadratic), lowest first: flat 0.00, linear (elu + 1) 1.00, full, explicit scores 2.00, full, fused kernel 2.00."
            + " Below 0.9 (flat), a fixed cost per call still outweighs what grows with n at these lengths.", findings[0]);
        Assert.Equal("Fastest at the longest length measured (n = 4,096): linear (elu + 1), 4.10 ms; slowest there: full, fused kernel, 167.77 ms.", findings[1]);
        Assert.Equal("Peak memory added at n = 4,096: 268.4 MB with explicit n × n scores, 0.0 MB with the fused kernel.", findings[2]);
    }

    [Fact]
    public void A_decoding_finding_gives_each_steps_growth_from_the_shortest_context_to_the_longest()
    {
        var finding = AttentionScaling.Findings([new DecodingStepCost(64, 0.010, 0.020), new DecodingStepCost(4096, 1.2, 0.021)]);
        Assert.Equal("From a context of 64 to 4,096 tokens, the step over the KV cache went from 0.010 to 1.200 ms (120.0×), linear attention's recurrent step from 0.020 to 0.021 ms (1.1×).", finding);
    }

    [Fact]
    public void A_peak_never_reads_minus_zero_and_a_missing_one_says_so() =>
        Assert.Equal(["0.0 MB", "0.0 MB", "12.3 MB", "not reported"], new[] { -0.0, -0.04, 12.34, double.NaN }.Select(AttentionScaling.Megabytes));
}
