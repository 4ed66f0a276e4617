using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Model.Convolutional;
using TransformerLab.Model.Recurrent;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Model;

/// <summary>
/// A run's settings name one model spec, and the spec alone builds the model: the kind the architecture says, at the
/// settings' sizes and the data's vocabularies, with a copying Transformer owning its extended vocabulary.
/// </summary>
public sealed class ModelSpecTests
{
    static readonly Vocabulary Source = Vocabulary.Build([["a", "b", "c"]]), Target = Vocabulary.Build([["x", "y"]]);

    [Theory]
    [InlineData(Architecture.Autoregressive, typeof(ModelSpec.Transformer), typeof(EncoderDecoder))]
    [InlineData(Architecture.NonAutoregressive, typeof(ModelSpec.NonAutoregressive), typeof(NonAutoregressiveTransformer))]
    [InlineData(Architecture.Rnn, typeof(ModelSpec.Recurrent), typeof(RecurrentEncoderDecoder))]
    [InlineData(Architecture.Cnn, typeof(ModelSpec.Convolutional), typeof(ConvolutionalEncoderDecoder))]
    public void Each_architecture_is_one_kind_of_spec_that_builds_its_model(Architecture architecture, Type spec, Type model)
    {
        var settings = TrainingSettings.For(TaskKind.Copy).WithArchitecture(architecture);
        var s = settings.ModelSpec();
        Assert.IsType(spec, s);
        Assert.Equal(architecture != Architecture.NonAutoregressive, s.IsAutoregressive);
        Assert.Equal(0, s.Sizes.SourceVocabulary); // the vocabularies come from the data, not the spec
        Assert.Equal(settings.ModelConfig(Source.Count, Target.Count) with { SourceVocabulary = 0, TargetVocabulary = 0, CausalMask = s.Sizes.CausalMask }, s.Sizes);
        torch.manual_seed(1);
        using var built = s.Create(Source, Target);
        Assert.IsType(model, built);
        if (built is SequenceToSequence seq) Assert.Equal(Target.Count, seq.TargetVocabulary);
    }

    [Fact]
    public void A_copying_transformer_owns_its_extended_vocabulary_and_restores_it_from_the_spec()
    {
        var s = (TrainingSettings.For(TaskKind.Copy).WithModel(m => m with { Copy = true }).WithLabelSmoothing(0)).ModelSpec();
        Assert.Equal(new ModelSpec.Transformer(s.Sizes, Copy: true), s);
        using var model = (EncoderDecoder)s.Create(Source, Target);
        Assert.NotNull(model.CopyVocabulary);
        using var weights = new MemoryStream();
        using (var w = new BinaryWriter(weights, System.Text.Encoding.UTF8, leaveOpen: true)) model.save(w);
        using var restored = new ModelCheckpoint(s, Source, Target, weights.ToArray(), Format: 2).RestoreSequenceToSequence(torch.CPU);
        Assert.NotNull(restored.CopyVocabulary);
        foreach (var (name, p) in model.named_parameters()) Assert.True(p.allclose(restored.named_parameters().Single(q => q.name == name).parameter, rtol: 0, atol: 0), name);
        Assert.Throws<CheckpointException>(() => new ModelCheckpoint(s, Source, Target, weights.ToArray(), 2).RestoreNonAutoregressive(torch.CPU));
    }
}
