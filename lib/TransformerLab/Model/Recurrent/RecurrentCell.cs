using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model.Recurrent;

/// <summary>Which recurrent cell a baseline uses.</summary>
public enum RecurrentCellKind { Lstm, Gru }

/// <summary>A recurrent cell's state after a step: the hidden state h, and the LSTM's memory cell c (null for a GRU).</summary>
public readonly record struct CellState(Tensor Hidden, Tensor? Cell)
{
    /// <summary>The state of each row where <paramref name="keep"/> <c>[batch]</c> is false, <paramref name="next"/>'s where true: a padded position leaves the state alone.</summary>
    public CellState Where(Tensor keep, CellState next)
    {
        var k = keep.unsqueeze(1);
        return new(torch.where(k, next.Hidden, Hidden), Cell is null ? null : torch.where(k, next.Cell!, Cell));
    }

    public CellState Select(Tensor indices) => new(Hidden.index_select(0, indices), Cell?.index_select(0, indices));

    public CellState Detached() => new(Hidden.DetachFromDisposeScope(), Cell?.DetachFromDisposeScope());

    public void Dispose() { Hidden.Dispose(); Cell?.Dispose(); }
}

/// <summary>
/// One step of a recurrent layer, written from its equations so the step is visible (the sequential operation of
/// Vaswani et al.'s Table 1) and checked against TorchSharp's fused <c>nn.LSTM</c> / <c>nn.GRU</c>: the parameters have their
/// names and layout (<c>weight_ih</c> <c>[gates·hidden, input]</c>, <c>weight_hh</c>, <c>bias_ih</c>, <c>bias_hh</c>), so
/// weights copy across.
/// </summary>
public abstract class RecurrentCell : nn.Module
{
    public long InputSize { get; }
    public long HiddenSize { get; }

    protected readonly Parameter weight_ih, weight_hh, bias_ih, bias_hh;

    protected RecurrentCell(string name, long inputSize, long hiddenSize, int gates) : base(name)
    {
        (InputSize, HiddenSize) = (inputSize, hiddenSize);
        weight_ih = nn.Parameter(torch.empty(gates * hiddenSize, inputSize));
        weight_hh = nn.Parameter(torch.empty(gates * hiddenSize, hiddenSize));
        bias_ih = nn.Parameter(torch.empty(gates * hiddenSize));
        bias_hh = nn.Parameter(torch.empty(gates * hiddenSize));
        RegisterComponents();
    }

    /// <summary>The state before the first step: zeros <c>[batch, hidden]</c>.</summary>
    public abstract CellState Zero(long batch, Device device, ScalarType dtype);

    /// <summary>One time step.</summary>
    /// <param name="x"><c>[batch, input]</c></param>
    /// <returns>the new state; its <see cref="CellState.Hidden"/> <c>[batch, hidden]</c> is the layer's output at this step.</returns>
    public abstract CellState Step(Tensor x, CellState state);

    public static RecurrentCell Create(RecurrentCellKind kind, long inputSize, long hiddenSize) => kind switch
    {
        RecurrentCellKind.Lstm => new LstmCell(inputSize, hiddenSize),
        _ => new GruCell(inputSize, hiddenSize),
    };
}

/// <summary>
/// Long short-term memory (Hochreiter &amp; Schmidhuber 1997, with the forget gate of Gers et al. 2000), PyTorch's gate order
/// i, f, g, o: c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c').
/// </summary>
public sealed class LstmCell(long inputSize, long hiddenSize) : RecurrentCell(nameof(LstmCell), inputSize, hiddenSize, gates: 4)
{
    public override CellState Zero(long batch, Device device, ScalarType dtype) =>
        new(torch.zeros(batch, HiddenSize, dtype: dtype, device: device), torch.zeros(batch, HiddenSize, dtype: dtype, device: device));

    public override CellState Step(Tensor x, CellState state)
    {
        var gates = nn.functional.linear(x, weight_ih, bias_ih).add(nn.functional.linear(state.Hidden, weight_hh, bias_hh), HeldScalars.One);
        var chunks = gates.chunk(4, dim: 1);
        var (i, f, g, o) = (chunks[0].sigmoid(), chunks[1].sigmoid(), chunks[2].tanh(), chunks[3].sigmoid());
        var c = (f * state.Cell!).add(i * g, HeldScalars.One);
        return new(o * c.tanh(), c);
    }
}

/// <summary>
/// Gated recurrent unit (Cho et al. 2014), PyTorch's gate order r, z, n: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
/// h' = (1 − z) ⊙ n + z ⊙ h.
/// </summary>
public sealed class GruCell(long inputSize, long hiddenSize) : RecurrentCell(nameof(GruCell), inputSize, hiddenSize, gates: 3)
{
    public override CellState Zero(long batch, Device device, ScalarType dtype) => new(torch.zeros(batch, HiddenSize, dtype: dtype, device: device), null);

    public override CellState Step(Tensor x, CellState state)
    {
        var fromInput = nn.functional.linear(x, weight_ih, bias_ih).chunk(3, dim: 1);
        var fromHidden = nn.functional.linear(state.Hidden, weight_hh, bias_hh).chunk(3, dim: 1);
        var r = fromInput[0].add(fromHidden[0], HeldScalars.One).sigmoid();
        var z = fromInput[1].add(fromHidden[1], HeldScalars.One).sigmoid();
        var n = fromInput[2].add(r * fromHidden[2], HeldScalars.One).tanh();
        return new(n.lerp(state.Hidden, z), null); // (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
    }
}
