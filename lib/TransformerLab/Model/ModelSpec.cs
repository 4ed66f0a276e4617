using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model.Convolutional;
using TransformerLab.Model.Recurrent;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// What model a run trains, and everything needed to build it again: one of a closed set of kinds — the Transformer
/// (Vaswani et al. 2017; with the copy mechanism and the attention kernel among its options), its non-autoregressive
/// decoder (Gu et al. 2018), the recurrent baseline and the convolutional one — each wrapping its own configuration.
/// The vocabularies are not part of it: they come from the data, and <see cref="Create"/> takes them. A checkpoint is a
/// spec, the vocabularies and the weights (<see cref="ModelCheckpoint"/>), so restoring a model needs nothing from training.
/// </summary>
public abstract record ModelSpec
{
    ModelSpec() { } // closed: the kinds below are the only ones

    /// <summary>Whether the model decodes token by token (a <see cref="SequenceToSequence"/>) rather than all positions at once.</summary>
    public abstract bool IsAutoregressive { get; }

    /// <summary>The model's configuration: the Transformer's, or the sizes a baseline shares with it (vocabularies left at 0).</summary>
    public abstract TransformerConfig Sizes { get; }

    /// <summary>How a message names the model this spec builds ("a Transformer", "the recurrent baseline").</summary>
    public abstract string Description { get; }

    /// <summary>A freshly initialised model for these vocabularies (from the current torch seed), on the CPU.</summary>
    public abstract nn.Module Create(Vocabulary source, Vocabulary target);

    /// <summary>The configuration with the vocabularies' sizes filled in (not validated: the model's constructor checks what it needs).</summary>
    protected static TransformerConfig ForVocabularies(TransformerConfig config, Vocabulary source, Vocabulary target) =>
        config with { SourceVocabulary = source.Count, TargetVocabulary = target.Count };

    /// <summary>The Transformer encoder–decoder of figure 1. <paramref name="Copy"/>: the pointer-generator output (See et al. 2017), whose extended vocabulary the model then owns.</summary>
    public sealed record Transformer(TransformerConfig Config, bool Copy = false) : ModelSpec
    {
        public override bool IsAutoregressive => true;
        public override TransformerConfig Sizes => Config;
        public override string Description => Copy ? "a Transformer with the copy mechanism" : "a Transformer";
        public override nn.Module Create(Vocabulary source, Vocabulary target) =>
            new EncoderDecoder(ForVocabularies(Config, source, target), Copy ? new ExtendedVocabulary(source, target) : null);
    }

    /// <summary>The non-autoregressive Transformer: no causal mask, every position decoded at once, the length predicted.</summary>
    public sealed record NonAutoregressive(NonAutoregressiveConfig Config) : ModelSpec
    {
        public override bool IsAutoregressive => false;
        public override TransformerConfig Sizes => Config.Transformer;
        public override string Description => "a non-autoregressive Transformer";
        public override nn.Module Create(Vocabulary source, Vocabulary target) =>
            new NonAutoregressiveTransformer(Config with { Transformer = ForVocabularies(Config.Transformer, source, target) });
    }

    /// <summary>The recurrent baseline with attention (Bahdanau et al. 2015, Luong et al. 2015), at the Transformer's sizes.</summary>
    public sealed record Recurrent(TransformerConfig Config, RecurrentChoices Choices) : ModelSpec
    {
        public override bool IsAutoregressive => true;
        public override TransformerConfig Sizes => Config;
        public override string Description => "the recurrent baseline";
        public override nn.Module Create(Vocabulary source, Vocabulary target) => new RecurrentEncoderDecoder(ForVocabularies(Config, source, target), Choices);
    }

    /// <summary>The convolutional baseline (Gehring et al. 2017), at the Transformer's sizes.</summary>
    public sealed record Convolutional(TransformerConfig Config, ConvolutionalChoices Choices) : ModelSpec
    {
        public override bool IsAutoregressive => true;
        public override TransformerConfig Sizes => Config;
        public override string Description => "the convolutional baseline";
        public override nn.Module Create(Vocabulary source, Vocabulary target) => new ConvolutionalEncoderDecoder(ForVocabularies(Config, source, target), Choices);
    }
}
