using TorchSharp;

namespace TransformerLab.Runtime;

/// <summary>
/// Scalars that live as long as the process. TorchSharp 0.107 turns a number given to an operation — the implicit
/// alpha = 1 of <c>Tensor + Tensor</c>, the value of <c>masked_fill</c> — into a temporary <see cref="Scalar"/> and passes
/// its native handle without keeping the object alive for the call (no <c>GC.KeepAlive</c>), so a garbage collection
/// during the call can run its finalizer and LibTorch reads freed memory. It failed one recurrent G2P-size run here
/// ("Expected false to be true … toFloat" inside <c>THSTensor_add</c>): a recurrence makes such calls for every time
/// step, hundreds of times a batch. It later stopped a Transformer run in a residual connection's add. Code that runs once
/// per time step, and the Transformer's residual connections and attention masks, pass these instead of numbers; the
/// calls this cannot reach (TorchSharp's own modules and optimisers make their own scalars) are why the results store
/// resumes a run libtorch stopped (<c>ResultsStore.LibTorchAttempts</c>).
/// </summary>
public static class HeldScalars
{
    /// <summary>1, for <c>a.add(b, One)</c>: what <c>a + b</c> means.</summary>
    public static readonly Scalar One = 1;

    /// <summary>−∞, for masking scores before a softmax.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity;
}
