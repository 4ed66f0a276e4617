using TorchSharp;
using TransformerLab.Model;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

public class EncoderDecoderTests
{
    public EncoderDecoderTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<NormPlacement, PositionalEncodingKind, bool> Variants => new()
    {
        { NormPlacement.Post, PositionalEncodingKind.Sinusoidal, false },
        { NormPlacement.Pre, PositionalEncodingKind.Learned, true },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Changing_future_target_tokens_changes_no_earlier_output(NormPlacement norm, PositionalEncodingKind pe, bool tie)
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig(norm) with { PositionalEncoding = pe, TieEmbeddings = tie };
        var model = NewModel(c, seed: 21);
        var source = Tokens(2, 7, c.SourceVocabulary);
        var target = Tokens(2, 6, c.TargetVocabulary);
        using var _ = torch.no_grad();
        var logits = model.forward(source, target);
        for (int t = 0; t < 5; t++)
        {
            var changed = target.clone();
            changed[.., (t + 1)..] = Tokens(2, 5 - t, c.TargetVocabulary);
            var after = model.forward(source, changed);
            AssertClose(logits[.., ..(t + 1)], after[.., ..(t + 1)], atol: 1e-6);
        }
    }

    [Fact]
    public void Without_the_causal_mask_the_future_leaks()
    {
        // The control for the test above: the same check fails when the mask is off.
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig() with { CausalMask = false };
        var model = NewModel(c, seed: 22);
        var source = Tokens(2, 7, c.SourceVocabulary);
        var target = Tokens(2, 6, c.TargetVocabulary);
        using var _ = torch.no_grad();
        var logits = model.forward(source, target);
        var changed = target.clone();
        changed[.., 3..] = (changed[.., 3..] % (c.TargetVocabulary - 1)) + 1; // different, never pad
        var after = model.forward(source, changed);
        Assert.False(logits[.., ..3].allclose(after[.., ..3], rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Appending_padding_leaves_real_positions_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig(NormPlacement.Pre);
        var model = NewModel(c, seed: 23);
        var source = Tokens(2, 5, c.SourceVocabulary);
        var target = Tokens(2, 4, c.TargetVocabulary);
        using var _ = torch.no_grad();
        var logits = model.forward(source, target);
        var paddedSource = torch.cat([source, torch.zeros(2, 3, dtype: ScalarType.Int64)], 1);
        var paddedTarget = torch.cat([target, torch.zeros(2, 2, dtype: ScalarType.Int64)], 1);
        var after = model.forward(paddedSource, paddedTarget);
        AssertClose(logits, after[.., ..4]);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Incremental_decoding_with_the_cache_gives_the_full_forward_logits(NormPlacement norm, PositionalEncodingKind pe, bool tie)
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig(norm) with { PositionalEncoding = pe, TieEmbeddings = tie };
        var model = NewModel(c, seed: 24);
        var source = torch.cat([Tokens(3, 6, c.SourceVocabulary), torch.zeros(3, 2, dtype: ScalarType.Int64)], 1);
        var target = Tokens(3, 7, c.TargetVocabulary);
        using var _ = torch.no_grad();
        var full = model.forward(source, target);
        var encoded = model.Encode(source);
        using var state = model.StartDecoding(encoded);
        for (int t = 0; t < 7; t++)
        {
            var step = model.DecodeStep(target[.., t], state);
            AssertClose(full[.., t], step);
        }
        Assert.Equal(7, state.Layers[0].Self.Length);
        Assert.Equal(8, state.Layers[0].Cross.Length); // filled once from the 8 source steps
    }

    [Fact]
    public void Reordering_the_decoder_state_reorders_its_hypotheses()
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig();
        var model = NewModel(c, seed: 25);
        var source = Tokens(2, 5, c.SourceVocabulary);
        var target = Tokens(2, 3, c.TargetVocabulary);
        using var _ = torch.no_grad();
        var encoded = model.Encode(source);
        using var state = model.StartDecoding(encoded);
        model.DecodeStep(target[.., 0], state);
        state.Reorder(torch.tensor(new long[] { 1, 1, 0 }));
        var step = model.DecodeStep(target[.., 1].index_select(0, torch.tensor(new long[] { 1, 1, 0 })), state);
        var full = model.forward(source, target)[.., 1];
        AssertClose(full.index_select(0, torch.tensor(new long[] { 1, 1, 0 })), step);
    }

    [Fact]
    public void Without_positional_encoding_the_encoder_is_permutation_equivariant_and_with_it_not()
    {
        using var scope = torch.NewDisposeScope();
        var source = torch.tensor(new long[] { 3, 5, 3, 7, 9 }, [1, 5]); // token 3 appears twice
        var permutation = torch.tensor(new long[] { 4, 2, 0, 3, 1 });
        using var _ = torch.no_grad();
        foreach (var kind in new[] { PositionalEncodingKind.None, PositionalEncodingKind.Sinusoidal })
        {
            var model = NewModel(SmallConfig() with { PositionalEncoding = kind }, seed: 26);
            var memory = model.Encode(source).Memory;
            var permuted = model.Encode(source.index_select(1, permutation)).Memory;
            bool equivariant = memory.index_select(1, permutation).allclose(permuted, rtol: 1e-5, atol: 1e-5);
            bool repeatedWordsAlike = memory[0, 0].allclose(memory[0, 2], rtol: 1e-5, atol: 1e-5);
            Assert.Equal(kind == PositionalEncodingKind.None, equivariant);
            Assert.Equal(kind == PositionalEncodingKind.None, repeatedWordsAlike);
        }
    }

    [Fact]
    public void The_same_seed_gives_identical_parameters_and_outputs()
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig() with { Dropout = 0.3 };
        var a = NewModel(c, seed: 27);
        var b = NewModel(c, seed: 27);
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(Identical(pa, pb), $"{name} differs");
        a.train();
        b.train();
        var source = Tokens(2, 5, c.SourceVocabulary);
        var target = Tokens(2, 4, c.TargetVocabulary);
        TorchRuntime.Seed(99);
        var outA = a.forward(source, target);
        TorchRuntime.Seed(99);
        var outB = b.forward(source, target);
        Assert.True(Identical(outA, outB)); // dropout masks included

        var other = NewModel(c, seed: 28);
        Assert.False(Identical(a.parameters().First(), other.parameters().First()));
    }

    [Fact]
    public void Tying_shares_the_target_embedding_with_the_output_projection()
    {
        var c = SmallConfig();
        long Count(EncoderDecoder m) => m.parameters().Sum(p => p.numel());
        using var untied = NewModel(c);
        using var tied = NewModel(c with { TieEmbeddings = true });
        Assert.Equal(c.TargetVocabulary * c.DModel, Count(untied) - Count(tied));
    }

    [Fact]
    public void An_invalid_configuration_lists_every_problem()
    {
        var bad = SmallConfig() with { DModel = 30, Heads = 4, Dropout = 1.5, EncoderLayers = 0 };
        var e = Assert.Throws<ArgumentException>(() => new EncoderDecoder(bad));
        Assert.Contains("d_model (30) must be divisible by heads (4)", e.Message);
        Assert.Contains("dropout must be in [0, 1)", e.Message);
        Assert.Contains("encoder_layers must be at least 1", e.Message);
    }

    [Fact]
    public void Attention_maps_and_gradient_norms_come_per_layer()
    {
        using var scope = torch.NewDisposeScope();
        var c = SmallConfig();
        var model = NewModel(c, seed: 29);
        var source = Tokens(2, 7, c.SourceVocabulary);
        var target = Tokens(2, 5, c.TargetVocabulary);

        using var maps = model.RecordAttention(source, target);
        Assert.Equal(2, maps.EncoderSelf.Count);
        Assert.Equal(new long[] { 2, 4, 7, 7 }, maps.EncoderSelf[0].shape);
        Assert.Equal(new long[] { 2, 4, 5, 5 }, maps.DecoderSelf[1].shape);
        Assert.Equal(new long[] { 2, 4, 5, 7 }, maps.Cross[0].shape);
        AssertClose(torch.ones(2, 4, 5), maps.Cross[0].sum(-1));
        Assert.Equal(0.0, maps.DecoderSelf[0].triu(1).abs().sum().ToDouble()); // nothing from the future

        model.train();
        var logits = model.forward(source, target);
        nn.functional.cross_entropy(logits.view(-1, c.TargetVocabulary), Tokens(2, 5, c.TargetVocabulary).view(-1)).backward();
        var norms = Introspection.LayerGradientNorms(model);
        var layers = norms.Select(n => n.Layer).ToList();
        Assert.Equal(["encoder.embedding", "encoder.layers.0", "encoder.layers.1", "decoder.embedding", "decoder.layers.0", "decoder.layers.1", "output"], layers);
        Assert.All(norms, n => Assert.True(n.Norm > 0 && double.IsFinite(n.Norm), $"{n.Layer}: {n.Norm}"));
    }
}
