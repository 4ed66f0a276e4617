using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>How a model tells positions apart (self-attention alone is permutation-equivariant).</summary>
public enum PositionalEncodingKind
{
    /// <summary>The paper's fixed sinusoids: defined for every position, so they apply beyond the training lengths.</summary>
    Sinusoidal,
    /// <summary>A learned vector per position (as in BERT/GPT): only positions below the maximum length exist.</summary>
    Learned,
    /// <summary>No positional information: the ablation that shows why it is needed.</summary>
    None,
}

/// <summary>Adds position information to embeddings <c>[batch, time, d_model]</c>, starting at a position offset.</summary>
public abstract class PositionalEncoding(string name) : nn.Module<Tensor, long, Tensor>(name)
{
    /// <summary>Creates the encoding of <paramref name="kind"/>; <paramref name="maxLength"/> bounds learned positions only.</summary>
    public static PositionalEncoding Create(PositionalEncodingKind kind, long dModel, long maxLength) => kind switch
    {
        PositionalEncodingKind.Sinusoidal => new SinusoidalPositionalEncoding(dModel),
        PositionalEncodingKind.Learned => new LearnedPositionalEncoding(dModel, maxLength),
        PositionalEncodingKind.None => new NoPositionalEncoding(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown positional encoding."),
    };
}

/// <summary>
/// PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))  (Vaswani et al. 2017, §3.5).
/// Computed on demand for any length (a table is kept and grown, never capped), so a model can run on sequences
/// longer than any it was trained on. For each offset k, PE(pos + k) is a fixed rotation of PE(pos).
/// </summary>
public sealed class SinusoidalPositionalEncoding : PositionalEncoding
{
    readonly long _dModel;
    Tensor? _table; // [positions, d_model], grown on demand; not a parameter, not saved

    public SinusoidalPositionalEncoding(long dModel) : base(nameof(SinusoidalPositionalEncoding))
    {
        if (dModel % 2 != 0) throw new ArgumentException($"Sinusoidal positional encoding needs an even d_model, got {dModel}.");
        _dModel = dModel;
    }

    /// <summary>The encodings of positions 0 … <paramref name="length"/>−1: <c>[length, d_model]</c>.</summary>
    public static Tensor Table(long length, long dModel, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var position = torch.arange(length, dtype: ScalarType.Float64, device: device).unsqueeze(1);        // [length, 1]
        var frequency = torch.exp(torch.arange(0, dModel, 2, dtype: ScalarType.Float64, device: device)
                                  * (-Math.Log(10000.0) / dModel));                                         // [d/2]
        var angle = position * frequency;                                                                   // [length, d/2]
        // Interleave: even dimensions sin, odd dimensions cos. Computed in float64, then stored as float32.
        var table = torch.stack([angle.sin(), angle.cos()], dim: 2).view(length, dModel).to(ScalarType.Float32);
        return table.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The matrix M_k with PE(pos + k) = M_k · PE(pos) for every pos (§3.5: "for any fixed offset k, PE_pos+k can be
    /// represented as a linear function of PE_pos"): per frequency ω_i a 2 × 2 rotation by the angle k·ω_i.
    /// </summary>
    /// <returns><c>[d_model, d_model]</c>, float64.</returns>
    public static Tensor Shift(long k, long dModel)
    {
        var m = torch.zeros(dModel, dModel, dtype: ScalarType.Float64);
        for (long i = 0; i < dModel / 2; i++)
        {
            var angle = k * Math.Exp(2.0 * i * (-Math.Log(10000.0) / dModel));
            // [sin(a+b), cos(a+b)] = [[cos b, sin b], [−sin b, cos b]] · [sin a, cos a]
            m[2 * i, 2 * i] = Math.Cos(angle);
            m[2 * i, 2 * i + 1] = Math.Sin(angle);
            m[2 * i + 1, 2 * i] = -Math.Sin(angle);
            m[2 * i + 1, 2 * i + 1] = Math.Cos(angle);
        }
        return m;
    }

    /// <summary>How many positions the kept table holds (it grows only when a longer sequence arrives).</summary>
    public long TablePositions => _table?.shape[0] ?? 0;

    /// <summary>Positions <paramref name="offset"/> … offset+length−1: <c>[length, d_model]</c>.</summary>
    public Tensor Positions(long offset, long length, Device device)
    {
        var needed = offset + length;
        if (_table is null || _table.shape[0] < needed || !SameDevice(_table.device, device))
        {
            var size = Math.Max(needed, 2 * (_table?.shape[0] ?? 64));
            _table?.Dispose();
            _table = Table(size, _dModel, device).DetachFromDisposeScope();
        }
        return _table.narrow(0, offset, length);
    }

    // Device is a reference type without value equality: compare what it names, or the table is rebuilt (and doubled) every call.
    static bool SameDevice(Device a, Device b) => a.type == b.type && a.index == b.index;

    /// <param name="x"><c>[batch, time, d_model]</c></param>
    /// <param name="offset">position of <paramref name="x"/>'s first step (incremental decoding).</param>
    public override Tensor forward(Tensor x, long offset) => x + Positions(offset, x.shape[1], x.device);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _table?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A learned embedding per position, for positions below <c>maxLength</c>.</summary>
public sealed class LearnedPositionalEncoding : PositionalEncoding
{
    readonly Embedding positions;
    public long MaxLength { get; }

    public LearnedPositionalEncoding(long dModel, long maxLength) : base(nameof(LearnedPositionalEncoding))
    {
        MaxLength = maxLength;
        positions = nn.Embedding(maxLength, dModel);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, long offset)
    {
        if (offset + x.shape[1] > MaxLength)
            throw new ArgumentException(
                $"Learned positional encoding has {MaxLength} positions, but position {offset + x.shape[1] - 1} was asked for. " +
                "Raise max_length in the model configuration, or use sinusoidal encoding, which has no limit.");
        using var index = torch.arange(offset, offset + x.shape[1], device: x.device);
        return x + positions.forward(index);
    }
}

/// <summary>No position information at all.</summary>
public sealed class NoPositionalEncoding() : PositionalEncoding(nameof(NoPositionalEncoding))
{
    public override Tensor forward(Tensor x, long offset) => x.alias();
}
