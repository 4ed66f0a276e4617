using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model.Recurrent;

/// <summary>What a recurrent baseline chooses beyond the sizes it shares with the Transformer.</summary>
public sealed record RecurrentChoices
{
    /// <summary>The recurrent cell of encoder and decoder: lstm or gru.</summary>
    [JsonPropertyName("rnn_cell")] public RecurrentCellKind Cell { get; init; } = RecurrentCellKind.Lstm;
    /// <summary>The attention score: general (Luong's multiplicative) or additive (Bahdanau's).</summary>
    [JsonPropertyName("rnn_attention")] public AttentionScore Attention { get; init; } = AttentionScore.General;
}

/// <summary>
/// The recurrent encoder–decoder with attention the study notes start from (Bahdanau et al. 2015; in the form of Luong et
/// al. 2015): a bidirectional recurrent encoder (d_model/2 per direction, concatenated), a recurrent decoder whose input
/// is the previous token's embedding and its previous attentional vector ("input feeding"), global attention over the
/// encoder states, and h̃_t = tanh(W_c [c_t; h_t]) before the output layer. Sizes come from the same
/// <see cref="TransformerConfig"/> as the Transformer (d_model, encoder_layers, decoder_layers, dropout,
/// tie_embeddings); heads, d_ff and the normalisation do not apply. Every parameter starts uniform in ±0.1 (Luong et al.
/// §4.1). Step t depends on step t − 1: <c>encoder_layers + decoder_layers</c> layers of O(n) sequential operations.
/// </summary>
public sealed class RecurrentEncoderDecoder : SequenceToSequence
{
    readonly Embedding sourceEmbedding, targetEmbedding;
    readonly ModuleList<RecurrentCell> forwardCells, backwardCells, decoderCells;
    readonly Linear initialState;     // mean encoder state → every decoder layer's first hidden state
    readonly RecurrentAttention attention;
    readonly Linear attentional;      // W_c: [c_t; h_t] → h̃_t
    readonly Linear? output;          // absent when tied
    readonly Parameter? outputBias;   // present only when tied
    readonly Dropout dropout;

    public TransformerConfig Config { get; }
    public RecurrentChoices Choices { get; }

    public RecurrentEncoderDecoder(TransformerConfig config, RecurrentChoices choices) : base(nameof(RecurrentEncoderDecoder))
    {
        Config = config.Validate();
        Choices = choices;
        long d = config.DModel;
        if (d % 2 != 0) throw new ArgumentException($"a bidirectional encoder splits d_model in two directions: d_model must be even (got {d}).");
        sourceEmbedding = nn.Embedding(config.SourceVocabulary, d, padding_idx: config.PadId);
        targetEmbedding = nn.Embedding(config.TargetVocabulary, d, padding_idx: config.PadId);
        forwardCells = nn.ModuleList(Enumerable.Range(0, config.EncoderLayers).Select(_ => RecurrentCell.Create(choices.Cell, d, d / 2)).ToArray());
        backwardCells = nn.ModuleList(Enumerable.Range(0, config.EncoderLayers).Select(_ => RecurrentCell.Create(choices.Cell, d, d / 2)).ToArray());
        decoderCells = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(i => RecurrentCell.Create(choices.Cell, i == 0 ? 2 * d : d, d)).ToArray());
        initialState = nn.Linear(d, config.DecoderLayers * d);
        attention = new RecurrentAttention(d, choices.Attention);
        attentional = nn.Linear(2 * d, d, hasBias: false);
        if (config.TieEmbeddings) outputBias = nn.Parameter(torch.zeros(config.TargetVocabulary));
        else output = nn.Linear(d, config.TargetVocabulary);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
        using (torch.no_grad())
        {
            foreach (var p in parameters()) nn.init.uniform_(p, -0.1, 0.1);
            outputBias?.zero_();
            sourceEmbedding.weight![config.PadId].zero_();
            targetEmbedding.weight![config.PadId].zero_();
        }
    }

    public override Parameter SourceEmbedding => sourceEmbedding.weight!;
    public override long TargetVocabulary => Config.TargetVocabulary;
    public override long MaxOutputLength => Config.MaxLength - 1;
    public override IReadOnlyList<Parameter> ParametersInSeedOrder() => parameters().ToList();

    /// <summary>Runs the bidirectional encoder; a padded position leaves each direction's state unchanged.</summary>
    public override EncodedSource Encode(Tensor source)
    {
        using var scope = NewDisposeScope();
        var real = source.ne(Config.PadId);                     // [batch, time]
        var x = dropout.forward(sourceEmbedding.forward(source)); // [batch, time, d]
        long time = source.shape[1];
        for (int layer = 0; layer < forwardCells.Count; layer++)
        {
            var forwards = Direction(forwardCells[layer], x, real, Enumerable.Range(0, (int)time));
            var backwards = Direction(backwardCells[layer], x, real, Enumerable.Range(0, (int)time).Reverse());
            x = dropout.forward(torch.cat([forwards, backwards], 2));
        }
        var mask = real.unsqueeze(1).unsqueeze(1);
        return new EncodedSource(source.alias(), x, mask).MoveToOuterDisposeScope();
    }

    /// <returns>the hidden state at every position <c>[batch, time, hidden]</c>, in time order.</returns>
    static Tensor Direction(RecurrentCell cell, Tensor x, Tensor real, IEnumerable<int> order)
    {
        var state = cell.Zero(x.shape[0], x.device, x.dtype);
        var outputs = new Tensor[x.shape[1]];
        foreach (var t in order)
        {
            state = state.Where(real.select(1, t), cell.Step(x.select(1, t), state));
            outputs[t] = state.Hidden;
        }
        return torch.stack(outputs, 1);
    }

    /// <summary>Teacher forcing runs the same step as decoding, once per target position: the recurrence allows no shortcut.</summary>
    public override Tensor Decode(Tensor targetInput, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        var state = Start(source.Memory, source.Mask);
        var logits = new Tensor[targetInput.shape[1]];
        for (int t = 0; t < logits.Length; t++) logits[t] = Step(targetInput.select(1, t), state);
        return torch.stack(logits, 1).MoveToOuterDisposeScope();
    }

    public override IDecoderState StartDecoding(EncodedSource source) => Start(source.Memory, source.Mask).Detached();

    public override Tensor DecodeStep(Tensor tokens, IDecoderState decoderState)
    {
        var state = (RecurrentDecoderState)decoderState;
        using var scope = NewDisposeScope();
        var previous = state.StepTensors();
        var logits = Step(tokens.dim() == 2 ? tokens.squeeze(1) : tokens, state);
        state.Detach();
        foreach (var t in previous) t.Dispose(); // the step replaced them
        return logits.MoveToOuterDisposeScope();
    }

    RecurrentDecoderState Start(Tensor memory, Tensor sourceMask)
    {
        var real = sourceMask.view(memory.shape[0], -1).unsqueeze(2).to(memory.dtype);  // [batch, time, 1]
        var mean = (memory * real).sum(1) / real.sum(1).clamp_min(1);                   // [batch, d]
        var hidden = initialState.forward(mean).tanh().chunk(decoderCells.Count, dim: 1);
        var layers = decoderCells.Select((cell, i) =>
        {
            var zero = cell.Zero(memory.shape[0], memory.device, memory.dtype);
            return new CellState(hidden[i], zero.Cell);
        }).ToArray();
        return new RecurrentDecoderState(memory, sourceMask, layers, torch.zeros_like(mean));
    }

    /// <summary>One step: [embedding; previous h̃] through the stacked cells, attention with the top state, h̃_t, logits <c>[batch, vocabulary]</c>.</summary>
    Tensor Step(Tensor tokens, RecurrentDecoderState state)
    {
        var input = torch.cat([dropout.forward(targetEmbedding.forward(tokens)), state.Attentional], 1);
        for (int i = 0; i < decoderCells.Count; i++)
        {
            state.Layers[i] = decoderCells[i].Step(input, state.Layers[i]);
            input = dropout.forward(state.Layers[i].Hidden);
        }
        var top = state.Layers[^1].Hidden;
        var (context, _) = attention.forward(top, state.Memory, state.SourceMask);
        state.Attentional = attentional.forward(torch.cat([context, top], 1)).tanh();
        var h = dropout.forward(state.Attentional);
        return output is not null ? MixedPrecision.Linear(output, h) : MixedPrecision.Linear(h, targetEmbedding.weight!, outputBias);
    }
}

/// <summary>The recurrent decoder's state: the memory it attends to, each layer's cell state, the last attentional vector h̃.</summary>
public sealed class RecurrentDecoderState(Tensor memory, Tensor sourceMask, CellState[] layers, Tensor attentional) : IDecoderState
{
    /// <summary><c>[batch, source time, d_model]</c></summary>
    public Tensor Memory { get; private set; } = memory;
    /// <summary><c>[batch, 1, 1, source time]</c></summary>
    public Tensor SourceMask { get; private set; } = sourceMask;
    public CellState[] Layers { get; } = layers;
    /// <summary>h̃ of the last step <c>[batch, d_model]</c> (zeros before the first).</summary>
    public Tensor Attentional { get; set; } = attentional;

    /// <summary>This state's tensors detached from the dispose scope, for decoding across steps (the previous ones are freed by their scope).</summary>
    internal RecurrentDecoderState Detached()
    {
        Memory = Memory.alias().DetachFromDisposeScope();
        SourceMask = SourceMask.alias().DetachFromDisposeScope();
        Detach();
        return this;
    }

    /// <summary>The tensors a step replaces: every layer's cell state and h̃.</summary>
    internal IReadOnlyList<Tensor> StepTensors() =>
        [.. Layers.SelectMany(l => l.Cell is null ? new[] { l.Hidden } : [l.Hidden, l.Cell]), Attentional];

    /// <summary>Keeps the step's new cell states and h̃ beyond the step's dispose scope.</summary>
    internal void Detach()
    {
        for (int i = 0; i < Layers.Length; i++) Layers[i] = Layers[i].Detached();
        Attentional.DetachFromDisposeScope();
    }

    public void Reorder(Tensor indices)
    {
        var (memory, mask) = (Memory.index_select(0, indices).DetachFromDisposeScope(), SourceMask.index_select(0, indices).DetachFromDisposeScope());
        Memory.Dispose(); SourceMask.Dispose();
        (Memory, SourceMask) = (memory, mask);
        for (int i = 0; i < Layers.Length; i++)
        {
            var selected = Layers[i].Select(indices).Detached();
            Layers[i].Dispose();
            Layers[i] = selected;
        }
        var attentional = Attentional.index_select(0, indices).DetachFromDisposeScope();
        Attentional.Dispose();
        Attentional = attentional;
    }

    public void Dispose()
    {
        Memory.Dispose(); SourceMask.Dispose(); Attentional.Dispose();
        foreach (var layer in Layers) layer.Dispose();
    }
}
