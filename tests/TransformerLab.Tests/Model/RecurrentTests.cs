using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Model.Recurrent;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>The recurrent baseline: its cells against TorchSharp's fused layers, its two decoding paths, padding, and learning.</summary>
public sealed class RecurrentTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-rnn-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    /// <summary>Runs <paramref name="cell"/> over <paramref name="x"/> <c>[batch, time, input]</c> from the zero state: the hidden state at every step.</summary>
    static Tensor Unroll(RecurrentCell cell, Tensor x)
    {
        var state = cell.Zero(x.shape[0], x.device, x.dtype);
        var outputs = new List<Tensor>();
        for (int t = 0; t < x.shape[1]; t++) outputs.Add((state = cell.Step(x.select(1, t), state)).Hidden);
        return torch.stack(outputs, 1);
    }

    /// <summary>Copies a one-layer fused module's parameters (weight_ih_l0 …) into the cell (weight_ih …).</summary>
    static void CopyFrom(nn.Module fused, RecurrentCell cell)
    {
        var source = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var _ = torch.no_grad();
        foreach (var (name, parameter) in cell.named_parameters()) parameter.copy_(source[name + "_l0"]);
    }

    /// <summary>With the fused module's weights copied in, the cell unrolled over a random batch gives the fused module's outputs.</summary>
    static void AssertStepEqualsFused(nn.Module fused, RecurrentCell cell, Func<Tensor, Tensor> fusedOutputs)
    {
        CopyFrom(fused, cell);
        using var x = torch.randn(4, 9, 5);
        Assert.True(Unroll(cell, x).allclose(fusedOutputs(x), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void The_lstm_step_equals_torch_nn_LSTM_with_the_same_weights()
    {
        torch.manual_seed(3);
        using var fused = nn.LSTM(5, 7, batchFirst: true);
        using var cell = new LstmCell(5, 7);
        AssertStepEqualsFused(fused, cell, x => fused.forward(x).Item1);
    }

    [Fact]
    public void The_gru_step_equals_torch_nn_GRU_with_the_same_weights()
    {
        torch.manual_seed(4);
        using var fused = nn.GRU(5, 7, batchFirst: true);
        using var cell = new GruCell(5, 7);
        AssertStepEqualsFused(fused, cell, x => fused.forward(x).Item1);
    }

    static RecurrentEncoderDecoder Model(RecurrentCellKind cell, AttentionScore score, bool tied = false)
    {
        torch.manual_seed(11);
        var model = new RecurrentEncoderDecoder(new TransformerConfig
        {
            SourceVocabulary = 12, TargetVocabulary = 10, DModel = 16, Heads = 2, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0.1, TieEmbeddings = tied, MaxLength = 40,
        }, new RecurrentChoices { Cell = cell, Attention = score });
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(RecurrentCellKind.Lstm, AttentionScore.General, false)]
    [InlineData(RecurrentCellKind.Gru, AttentionScore.Additive, true)]
    public void Step_by_step_decoding_gives_the_teacher_forced_logits(RecurrentCellKind cell, AttentionScore score, bool tied)
    {
        using var model = Model(cell, score, tied);
        SequenceToSequenceChecks.DecodeStepEqualsTeacherForcing(model);
    }

    [Fact]
    public void Padding_changes_nothing_and_receives_no_attention()
    {
        using var model = Model(RecurrentCellKind.Lstm, AttentionScore.General);
        SequenceToSequenceChecks.PaddingChangesNothing(model);
        using var _ = torch.no_grad();
        var encoded = model.Encode(torch.tensor(new long[,] { { 5, 6, 7, 0, 0 } }));
        using var attention = new RecurrentAttention(16, AttentionScore.Additive);
        var (_, weights) = attention.forward(torch.randn(1, 16), encoded.Memory, encoded.Mask);
        Assert.Equal(0.0, weights[0, TensorIndex.Slice(3)].abs().sum().item<float>());
        Assert.Equal(1.0, weights.sum().item<float>(), 5);
    }

    [Fact]
    public void Beam_search_runs_on_the_recurrent_model_and_beam_1_is_greedy()
    {
        using var model = Model(RecurrentCellKind.Gru, AttentionScore.General);
        var source = torch.tensor(new long[,] { { 5, 6, 7, 8 }, { 9, 10, 0, 0 } });
        var greedy = Greedy.Decode(model, source, maxLength: 6);
        var beam = BeamSearch.Decode(model, source, new BeamOptions(1), maxLength: 6);
        Assert.Equal(greedy.Select(h => h.Tokens), beam.Select(n => n[0].Tokens));
        var cachedBeam4 = BeamSearch.Decode(model, source, new BeamOptions(4), maxLength: 6);
        var recomputedBeam4 = BeamSearch.Decode(model, source, new BeamOptions(4), maxLength: 6, useCache: false);
        Assert.Equal(recomputedBeam4.Select(n => n[0].Tokens), cachedBeam4.Select(n => n[0].Tokens));
    }

    [Fact]
    public void The_rnn_baseline_learns_the_copy_task_and_restores_from_its_checkpoint()
    {
        var (model, exactMatch) = SequenceToSequenceChecks.LearnCopy(folder, s => s.WithArchitecture(Architecture.Rnn));
        using var _ = model;
        Assert.IsType<RecurrentEncoderDecoder>(model);
        Assert.True(exactMatch >= 0.95, $"exact match {exactMatch:P1}");
    }
}
