using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Model.Convolutional;
using TransformerLab.Model.Recurrent;
using Xunit;

namespace TransformerLab.Tests.Model;

/// <summary>Table 1's maximum path length, measured: the reach of x_0 through each encoder is exactly what its structure allows.</summary>
public sealed class PathLengthTests
{
    const int Length = 24;

    static TransformerConfig Config(int layers) => new()
    {
        SourceVocabulary = Length + 4, TargetVocabulary = 8, DModel = 16, Heads = 2, DFF = 32, EncoderLayers = layers, DecoderLayers = 1, MaxLength = 64,
    };

    static int Reach(SequenceToSequence model)
    {
        using var _ = model;
        var sensitivity = PathLength.SensitivityToFirstInput(model, Length);
        Assert.Equal(Length, sensitivity.Length);
        Assert.True(sensitivity[0] > 0);
        return PathLength.Reach(sensitivity);
    }

    [Fact]
    public void One_self_attention_layer_connects_the_first_input_to_every_output() =>
        Assert.Equal(Length - 1, Reach(new EncoderDecoder(Config(1))));

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(3, 12)]
    public void Restricted_self_attention_reaches_one_window_further_per_layer(int layers, int reach) =>
        Assert.Equal(reach, Reach(new EncoderDecoder(Config(layers) with { Attention = AttentionKind.Local, AttentionWindow = 4 })));

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 1, 3)]
    [InlineData(3, 2, 7)]  // 1 + 2 + 4
    [InlineData(4, 2, 15)] // 1 + 2 + 4 + 8
    public void A_convolution_of_width_3_reaches_one_position_per_layer_or_doubles_when_dilated(int layers, int dilation, int reach) =>
        Assert.Equal(reach, Reach(new ConvolutionalEncoderDecoder(Config(layers), new ConvolutionalChoices { Kernel = 3, Dilation = dilation })));

    [Fact]
    public void A_bidirectional_recurrence_reaches_every_output_in_one_layer()
    {
        torch.manual_seed(1);
        Assert.Equal(Length - 1, Reach(new RecurrentEncoderDecoder(Config(1), new RecurrentChoices())));
    }
}
