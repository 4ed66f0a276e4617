using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Decoding;

/// <summary>
/// Decoding on untrained models: their output distributions are arbitrary but fixed, which is all these
/// invariants need (and a trained model would hide bugs behind confident, easy choices).
/// </summary>
public class DecodingTests
{
    static EncoderDecoder Model(long targetVocabulary = 11, NormPlacement norm = NormPlacement.Pre, long seed = 3) =>
        Reference.NewModel(Reference.SmallConfig(norm) with { TargetVocabulary = targetVocabulary, Dropout = 0.1 }, seed);

    static Tensor Sources(long batch = 5, long time = 7)
    {
        TorchRuntime.Seed(11);
        var tokens = Reference.Tokens(batch, time, 13, first: 4);
        tokens[0, ^2..] = Vocabulary.Pad; // one padded source
        return tokens;
    }

    [Theory]
    [InlineData(NormPlacement.Post)]
    [InlineData(NormPlacement.Pre)]
    public void Cached_and_recomputed_decoding_agree(NormPlacement norm)
    {
        using var model = Model(norm: norm);
        using var source = Sources();
        var cached = Greedy.Decode(model, source, maxLength: 12, useCache: true);
        var recomputed = Greedy.Decode(model, source, maxLength: 12, useCache: false);
        for (int i = 0; i < cached.Count; i++)
        {
            Assert.Equal(recomputed[i].Tokens, cached[i].Tokens);
            Assert.Equal(recomputed[i].LogProbability, cached[i].LogProbability, 4);
        }
        var beamCached = BeamSearch.Decode(model, source, new BeamOptions(4, NBest: 4), maxLength: 12, useCache: true);
        var beamRecomputed = BeamSearch.Decode(model, source, new BeamOptions(4, NBest: 4), maxLength: 12, useCache: false);
        for (int i = 0; i < beamCached.Count; i++)
            Assert.Equal(beamRecomputed[i].Select(h => string.Join(",", h.Tokens)), beamCached[i].Select(h => string.Join(",", h.Tokens)));
    }

    [Fact]
    public void Greedy_decoding_equals_beam_search_of_width_one()
    {
        using var model = Model();
        using var source = Sources(batch: 8);
        var greedy = Greedy.Decode(model, source, maxLength: 15);
        var beam = BeamSearch.Decode(model, source, new BeamOptions(1), maxLength: 15);
        for (int i = 0; i < greedy.Count; i++)
        {
            Assert.Equal(greedy[i].Tokens, beam[i][0].Tokens);
            Assert.Equal(greedy[i].LogProbability, beam[i][0].LogProbability, 4);
        }
    }

    [Fact]
    public void A_wide_beam_finds_the_sequence_exhaustive_search_finds()
    {
        // 6 target ids: PAD BOS EOS UNK + 2 symbols, so 3 producible tokens besides EOS; outputs of ≤ 4 tokens.
        // At most 3^4 open + 40 finished hypotheses exist at once, so a beam of 128 never prunes and must be exact.
        using var model = Model(targetVocabulary: 6, seed: 5);
        for (int row = 0; row < 4; row++)
        {
            using var source = Sources(batch: 4).narrow(0, row, 1);
            var exact = ExhaustiveSearch.Best(model, source, maxLength: 4);
            var beam = BeamSearch.Decode(model, source, new BeamOptions(128), maxLength: 4)[0][0];
            Assert.Equal(exact.Tokens, beam.Tokens);
            Assert.Equal(exact.LogProbability, beam.LogProbability, 4);
        }
    }

    [Fact]
    public void Search_errors_vanish_for_a_beam_that_never_prunes()
    {
        using var model = Model(targetVocabulary: 6, seed: 5);
        using var sources = Sources(batch: 4);
        var reports = ExhaustiveSearch.SearchErrors(model, sources, [1, 128], maxLength: 4);
        Assert.Equal(0, reports[1].ErrorRate);
        Assert.Equal(0, reports[1].MeanLogProbabilityLost, 4);
        Assert.True(reports[0].ErrorRate >= reports[1].ErrorRate && reports[0].MeanLogProbabilityLost >= 0);
        Assert.All(reports, r => Assert.Equal(4, r.Sources));
    }

    [Fact]
    public void Beam_search_returns_n_best_in_order_and_its_best_is_at_least_as_likely_as_greedy()
    {
        using var model = Model();
        using var source = Sources();
        var greedy = Greedy.Decode(model, source, maxLength: 10);
        var nbest = BeamSearch.Decode(model, source, new BeamOptions(5, NBest: 3), maxLength: 10);
        for (int i = 0; i < nbest.Count; i++)
        {
            Assert.Equal(3, nbest[i].Count);
            Assert.True(nbest[i].Zip(nbest[i].Skip(1)).All(p => p.First.Score >= p.Second.Score));
            Assert.Equal(nbest[i].Count, nbest[i].Select(h => string.Join(",", h.Tokens)).Distinct().Count());
            if (greedy[i].Finished && nbest[i][0].Finished) Assert.True(nbest[i][0].LogProbability >= greedy[i].LogProbability - 1e-4);
        }
    }

    [Fact]
    public void The_length_penalty_ranks_by_log_probability_over_lp()
    {
        var options = new BeamOptions(4, LengthPenalty: 1.0);
        Assert.Equal(-6.0 / ((5 + 7) / 6.0), options.Score(-6.0, 7), 12);
        Assert.Equal(-6.0, new BeamOptions(4).Score(-6.0, 7), 12);
    }

    [Fact]
    public void Decoding_stops_at_the_length_limit_and_never_produces_pad_or_bos()
    {
        using var model = Model();
        using var source = Sources();
        foreach (var h in Greedy.Decode(model, source, maxLength: 3))
        {
            Assert.True(h.Tokens.Length <= 3);
            Assert.DoesNotContain(h.Tokens, t => t == Vocabulary.Pad || t == Vocabulary.Bos);
        }
    }

    [Fact]
    public void Sampling_is_reproducible_from_its_seed_and_top_k_one_is_greedy()
    {
        using var model = Model();
        using var source = Sources();
        var a = Sampling.Decode(model, source, new SamplingOptions(Temperature: 1.5, Seed: 4), maxLength: 10);
        var b = Sampling.Decode(model, source, new SamplingOptions(Temperature: 1.5, Seed: 4), maxLength: 10);
        Assert.Equal(a.Select(h => string.Join(",", h.Tokens)), b.Select(h => string.Join(",", h.Tokens)));
        var topOne = Sampling.Decode(model, source, new SamplingOptions(TopK: 1, Seed: 9), maxLength: 10);
        var greedy = Greedy.Decode(model, source, maxLength: 10);
        Assert.Equal(greedy.Select(h => string.Join(",", h.Tokens)), topOne.Select(h => string.Join(",", h.Tokens)));
    }

    [Fact]
    public void Top_k_and_top_p_keep_exactly_the_tokens_they_should()
    {
        using var logProbs = torch.tensor(new[] { 0.5f, 0.2f, 0.15f, 0.1f, 0.05f }).log().unsqueeze(0);
        bool[] Kept(SamplingOptions o) => Sampling.Filter(logProbs, o).isfinite().squeeze(0).data<bool>().ToArray();
        Assert.Equal([true, true, false, false, false], Kept(new SamplingOptions(TopK: 2)));
        Assert.Equal([true, true, true, false, false], Kept(new SamplingOptions(TopP: 0.8)));   // 0.5 + 0.2 < 0.8 ≤ 0.85
        Assert.Equal([true, false, false, false, false], Kept(new SamplingOptions(TopP: 0.3))); // the top token always stays
        using var renormalised = Sampling.Filter(logProbs, new SamplingOptions(TopK: 2)).exp().squeeze(0);
        Assert.Equal(0.5 / 0.7, renormalised[0].item<float>(), 5);
    }
}
