using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Model;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Studies;

public sealed class NormalizationTests
{
    [Fact]
    public void Sequence_batch_norm_normalises_each_feature_over_every_batch_and_time_position()
    {
        TorchRuntime.Seed(1);
        using var norm = new SequenceBatchNorm(8);
        norm.train();
        var x = torch.randn(3, 5, 8) * 4 + 2;
        var flat = x.reshape(15, 8);
        var expected = (flat - flat.mean([0], keepdim: true)) / (flat.var([0], unbiased: false, keepdim: true) + 1e-5).sqrt();
        Reference.AssertClose(expected.reshape(3, 5, 8), norm.forward(x), atol: 1e-4);
    }

    [Theory]
    [InlineData(NormPlacement.Post)]
    [InlineData(NormPlacement.Pre)]
    public void A_model_with_batch_norm_in_its_blocks_runs_forward(NormPlacement placement)
    {
        using var model = Reference.NewModel(Reference.SmallConfig(placement) with { Normalization = NormalizationKind.BatchNorm });
        model.train();
        TorchRuntime.Seed(2);
        var logits = model.forward(Reference.Tokens(2, 6, 13), Reference.Tokens(2, 4, 11));
        Assert.Equal(new long[] { 2, 4, 11 }, logits.shape);
        Assert.Contains(model.modules(), m => m is SequenceBatchNorm);
        Assert.DoesNotContain(model.modules(), m => m is TorchSharp.Modules.LayerNorm);
    }

    [Fact]
    public void With_batch_norm_cached_decoding_agrees_with_recomputing_the_prefix_after_training_moved_the_running_statistics()
    {
        using var model = Reference.NewModel(Reference.SmallConfig(NormPlacement.Pre) with { Normalization = NormalizationKind.BatchNorm }, seed: 5);
        TorchRuntime.Seed(4);
        model.train();
        using (no_grad()) model.forward(Reference.Tokens(4, 6, 13, first: 4), Reference.Tokens(4, 5, 11, first: 4)); // updates the running averages
        model.eval();
        using var source = Reference.Tokens(3, 6, 13, first: 4);
        var cached = Greedy.Decode(model, source, maxLength: 8, useCache: true);
        var recomputed = Greedy.Decode(model, source, maxLength: 8, useCache: false);
        for (int i = 0; i < cached.Count; i++)
        {
            Assert.Equal(recomputed[i].Tokens, cached[i].Tokens);
            Assert.Equal(recomputed[i].LogProbability, cached[i].LogProbability, 4);
        }
        // in eval mode (running averages) a sequence's output no longer depends on the rest of the batch
        using var target = Reference.Tokens(3, 4, 11, first: 4);
        using var together = model.forward(source, target);
        using var otherSources = source.clone();
        otherSources[1..] = Reference.Tokens(2, 6, 13, first: 4);
        Reference.AssertClose(together[0], model.forward(otherSources, target)[0], atol: 1e-5);
    }

    [Fact]
    public void The_gradient_probe_gives_one_norm_per_layer_and_repeats_with_its_seed()
    {
        var config = Reference.SmallConfig(NormPlacement.Post) with { EncoderLayers = 3, DecoderLayers = 4 };
        TorchRuntime.Seed(3);
        var examples = Enumerable.Range(0, 8).Select(i => new Example(new[] { "a", "b", "c" }[..(1 + i % 3)], ["x", "y"])).ToList();
        var data = TaskData.FromSplits("t", examples, examples, examples);
        using var batch = Batching.Make(examples, Enumerable.Range(0, 8).ToArray(), data.SourceVocabulary, data.TargetVocabulary);
        var sized = config with { SourceVocabulary = data.SourceVocabulary.Count, TargetVocabulary = data.TargetVocabulary.Count };

        var norms = GradientProbe.AtInitialisation(sized, batch, seed: 9);
        var layers = norms.Where(n => n.Layer.Contains(".layers.")).Select(n => n.Layer).ToList();
        Assert.Equal(["encoder.layers.0", "encoder.layers.1", "encoder.layers.2", "decoder.layers.0", "decoder.layers.1", "decoder.layers.2", "decoder.layers.3"], layers);
        Assert.All(norms.Where(n => n.Layer.Contains(".layers.")), n => Assert.True(n.Norm > 0 && double.IsFinite(n.Norm), n.Layer));
        Assert.Equal(norms, GradientProbe.AtInitialisation(sized, batch, seed: 9));
    }

    [Fact]
    public void Parameter_names_map_to_layers_and_stack_positions()
    {
        Assert.Equal("decoder.layers.3", Introspection.LayerName("decoder.layers.3.self_attn.w_q.weight"));
        Assert.Equal("output", Introspection.LayerName("output.projection.bias"));
        Assert.Equal("encoder.embedding", Introspection.LayerName("encoder.embedding.embedding.weight"));
        Assert.Equal(("decoder", 3), Introspection.StackPosition("decoder.layers.3"));
        Assert.Equal(("encoder", 11), Introspection.StackPosition("encoder.layers.11"));
        Assert.Null(Introspection.StackPosition("output"));
        Assert.Null(Introspection.StackPosition("decoder.layers.3.self_attn"));   // a parameter name, not a layer
    }
}
