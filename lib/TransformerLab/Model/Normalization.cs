using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>Which statistics a sub-layer normalises by.</summary>
public enum NormalizationKind
{
    /// <summary>Per position, over the d_model features (Ba et al. 2016): the Transformer's choice.</summary>
    LayerNorm,
    /// <summary>
    /// Per feature, over every position of the batch (Ioffe &amp; Szegedy 2015), padding included as a drop-in
    /// replacement would: statistics depend on the batch's lengths and composition, and inference uses running
    /// averages instead — the reasons the Transformer does not use it (Shen et al. 2020).
    /// </summary>
    BatchNorm,
}

/// <summary>The normalisation layers a Transformer block can use, all <c>[batch, time, d_model]</c> → same.</summary>
public static class Normalization
{
    public static nn.Module<Tensor, Tensor> Create(NormalizationKind kind, long dModel) => kind switch
    {
        NormalizationKind.LayerNorm => nn.LayerNorm(dModel),
        NormalizationKind.BatchNorm => new SequenceBatchNorm(dModel),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown normalisation"),
    };
}

/// <summary>Batch normalisation of <c>[batch, time, d_model]</c>: each feature over all batch × time positions.</summary>
public sealed class SequenceBatchNorm : nn.Module<Tensor, Tensor>
{
    readonly BatchNorm1d norm;

    public SequenceBatchNorm(long dModel) : base(nameof(SequenceBatchNorm))
    {
        norm = nn.BatchNorm1d(dModel);
        RegisterComponents();
    }

    /// <param name="x"><c>[batch, time, d_model]</c></param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        return norm.forward(x.reshape(-1, shape[^1])).reshape(shape).MoveToOuterDisposeScope();
    }
}
