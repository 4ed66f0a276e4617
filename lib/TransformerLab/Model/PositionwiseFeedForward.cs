using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>The non-linearity inside the feed-forward network.</summary>
public enum Activation { ReLU, GELU }

/// <summary>
/// FFN(x) = max(0, x W₁ + b₁) W₂ + b₂ (Vaswani et al. 2017, §3.3): the same two-layer network applied to every
/// position separately, widening to d_ff and projecting back to d_model.
/// </summary>
public sealed class PositionwiseFeedForward : nn.Module<Tensor, Tensor>
{
    readonly Linear linear1, linear2;
    readonly Dropout dropout;
    readonly Activation _activation;

    public PositionwiseFeedForward(long dModel, long dFF, double dropout, Activation activation) : base(nameof(PositionwiseFeedForward))
    {
        linear1 = nn.Linear(dModel, dFF);
        linear2 = nn.Linear(dFF, dModel);
        this.dropout = nn.Dropout(dropout);
        _activation = activation;
        RegisterComponents();
    }

    public (Linear First, Linear Second) Layers => (linear1, linear2);

    /// <param name="x"><c>[batch, time, d_model]</c></param>
    /// <returns><c>[batch, time, d_model]</c></returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = MixedPrecision.Linear(linear1, x);
        hidden = _activation == Activation.ReLU ? nn.functional.relu(hidden) : nn.functional.gelu(hidden);
        return MixedPrecision.Linear(linear2, dropout.forward(hidden)).MoveToOuterDisposeScope();
    }
}
