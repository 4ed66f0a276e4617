using TransformerLab.Metrics;
using Xunit;

namespace TransformerLab.Tests.Metrics;

/// <summary>Metric values against hand computations.</summary>
public class MetricsTests
{
    static string[] W(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    static IReadOnlyList<IReadOnlyList<string>> Refs(params string[] r) => r.Select(x => (IReadOnlyList<string>)W(x)).ToList();

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("a b c", "", 3)]
    [InlineData("k ae t", "k ae t", 0)]
    [InlineData("k ae t", "k ah t", 1)]          // one substitution
    [InlineData("k ae t", "k ae t s", 1)]        // one insertion
    [InlineData("s i t t i n g", "k i t t e n", 3)] // kitten/sitting: 2 substitutions + 1 deletion
    public void Edit_distance_counts_the_fewest_edits(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Between(W(a), W(b)));
        Assert.Equal(expected, EditDistance.Between(W(b), W(a)));
    }

    [Fact]
    public void WER_and_PER_score_each_word_against_its_closest_pronunciation()
    {
        // word 1: exact match with the second variant; word 2: one substitution against a 4-phoneme reference;
        // word 3: prediction one phoneme short of a 2-phoneme reference.
        var predictions = new[] { W("T AH M EY T OW"), W("K AE T S"), W("AH") };
        var references = new[] { Refs("T AH M AA T OW", "T AH M EY T OW"), Refs("K AE T Z"), Refs("AH Z") };
        var m = SequenceMetrics.Compute(predictions, references);
        Assert.Equal(3, m.Items);
        Assert.Equal(2.0 / 3, m.WordErrorRate, 12);
        Assert.Equal((0 + 1 + 1) / (6.0 + 4 + 2), m.PhonemeErrorRate, 12);  // Σ edits / Σ closest reference lengths
        Assert.Equal((6 + 3 + 1) / 12.0, m.TokenAccuracy, 12);               // same-position matches / reference length
        Assert.Equal(1.0 / 3, m.ExactMatch, 12);
    }

    [Fact]
    public void BLEU_of_a_perfect_corpus_is_one_and_of_a_disjoint_one_zero()
    {
        var r = Refs("the cat sat on the mat");
        Assert.Equal(1.0, Bleu.Corpus([W("the cat sat on the mat")], [r]), 12);
        Assert.Equal(0.0, Bleu.Corpus([W("a dog ran in a park")], [r]), 12);
    }

    [Fact]
    public void BLEU_matches_a_hand_computation_with_clipping_and_brevity_penalty()
    {
        // candidate "the cat the cat on the mat" (7 tokens) vs reference "the cat is on the mat" (6 tokens)
        // 1-grams: the×3 (ref 2 → clip 2), cat×2 (ref 1 → 1), on, mat → 2+1+1+1 = 5 / 7
        // 2-grams: the-cat×2 (ref 1), cat-the (0), cat-on (0), on-the (1), the-mat (1) → 3 / 6
        // 3-grams: the-cat-the, cat-the-cat, the-cat-on, cat-on-the, on-the-mat → only on-the-mat → 1 / 5
        // 4-grams: … cat-on-the-mat is not in the reference (cat-is-on) → 0 / 4 → BLEU 0 with the standard definition
        var candidate = W("the cat the cat on the mat");
        var reference = Refs("the cat is on the mat");
        Assert.Equal(0.0, Bleu.Corpus([candidate], [reference]), 12);
        // With three n-gram orders: (5/7 · 3/6 · 1/5)^(1/3), no brevity penalty (7 ≥ 6)
        Assert.Equal(Math.Pow(5.0 / 7 * 3.0 / 6 * 1.0 / 5, 1.0 / 3), Bleu.Corpus([candidate], [reference], maxOrder: 3), 12);
        // A short candidate: "the cat" (2) vs 6 → every precision 1 up to order 2, brevity penalty exp(1 − 6/2)
        Assert.Equal(Math.Exp(1 - 3.0), Bleu.Corpus([W("the cat")], [reference], maxOrder: 2), 12);
    }

    [Fact]
    public void Sentence_BLEU_adds_one_above_unigrams_so_a_missing_four_gram_does_not_zero_it()
    {
        // the hand case above, smoothed: (5/7 · (3+1)/(6+1) · (1+1)/(5+1) · (0+1)/(4+1))^(1/4), no brevity penalty
        var candidate = W("the cat the cat on the mat");
        var reference = W("the cat is on the mat");
        Assert.Equal(Math.Pow(5.0 / 7 * 4.0 / 7 * 2.0 / 6 * 1.0 / 5, 0.25), Bleu.Sentence(candidate, reference), 12);
        // "a b c" against "a b c d": every smoothed precision 1, brevity penalty exp(1 − 4/3)
        Assert.Equal(Math.Exp(1 - 4.0 / 3), Bleu.Sentence(W("a b c"), W("a b c d")), 12);
        Assert.Equal(1.0, Bleu.Sentence(reference, reference), 12);
        Assert.Equal(0.0, Bleu.Sentence(W("x y z"), reference), 12); // no unigram in common: unsmoothed, so 0
    }

    [Fact]
    public void BLEU_pools_counts_over_the_corpus_rather_than_averaging_sentences()
    {
        // sentence 1 perfect (4 tokens), sentence 2 one wrong token out of 4: 1-gram precision pooled = 7/8
        var candidates = new[] { W("a b c d"), W("e f g x") };
        var references = new[] { Refs("a b c d"), Refs("e f g h") };
        Assert.Equal(7.0 / 8, Bleu.Corpus(candidates, references, maxOrder: 1), 12);
        Assert.Equal(Math.Sqrt(7.0 / 8 * 5.0 / 6), Bleu.Corpus(candidates, references, maxOrder: 2), 12);
    }
}
