using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Model.Convolutional;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>The convolutional baseline: causality, padding, its two decoding paths, and learning (its receptive field: PathLengthTests).</summary>
public sealed class ConvolutionalTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-cnn-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    static ConvolutionalEncoderDecoder Model(int layers = 2, int kernel = 3, int dilation = 1, bool tied = false)
    {
        torch.manual_seed(5);
        var model = new ConvolutionalEncoderDecoder(new TransformerConfig
        {
            SourceVocabulary = 12, TargetVocabulary = 10, DModel = 16, Heads = 2, EncoderLayers = layers, DecoderLayers = layers, Dropout = 0.1, TieEmbeddings = tied, MaxLength = 40,
        }, new ConvolutionalChoices { Kernel = kernel, Dilation = dilation });
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Step_by_step_decoding_gives_the_teacher_forced_logits(bool tied)
    {
        using var model = Model(tied: tied);
        SequenceToSequenceChecks.DecodeStepEqualsTeacherForcing(model);
    }

    [Fact]
    public void The_decoder_is_causal_a_later_target_token_changes_no_earlier_logits()
    {
        using var model = Model();
        using var _ = torch.no_grad();
        var encoded = model.Encode(torch.tensor(new long[,] { { 5, 6, 7, 8 } }));
        var a = model.Decode(torch.tensor(new long[,] { { Vocabulary.Bos, 4, 5, 6, 7 } }), encoded);
        var b = model.Decode(torch.tensor(new long[,] { { Vocabulary.Bos, 4, 5, 9, 9 } }), encoded);
        Assert.True(a[.., ..3].allclose(b[.., ..3], rtol: 1e-6, atol: 1e-7));
        Assert.False(a[.., 3].allclose(b[.., 3]));
    }

    [Fact]
    public void Padding_changes_nothing()
    {
        using var model = Model();
        SequenceToSequenceChecks.PaddingChangesNothing(model);
    }

    [Fact]
    public void Kernel_and_dilation_are_checked()
    {
        var settings = new TrainingSettings().WithModel(m => m with { Architecture = Architecture.Cnn, Cnn = new ConvolutionalChoices { Kernel = 4 } });
        Assert.Contains(settings.Problems(), p => p.Contains("cnn_kernel must be odd"));
    }

    [Fact]
    public void The_cnn_baseline_learns_the_copy_task_and_restores_from_its_checkpoint()
    {
        var (model, exactMatch) = SequenceToSequenceChecks.LearnCopy(folder,
            s => s.WithModel(m => m with { Architecture = Architecture.Cnn, Cnn = new ConvolutionalChoices { Kernel = 3, Dilation = 2 } }), layers: 3);
        using var _ = model;
        Assert.IsType<ConvolutionalEncoderDecoder>(model);
        Assert.True(exactMatch >= 0.95, $"exact match {exactMatch:P1}");
    }
}
