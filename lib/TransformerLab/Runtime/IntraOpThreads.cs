using TorchSharp;

namespace TransformerLab.Runtime;

/// <summary>
/// LibTorch's intra-op thread count, chosen for the work. A decoding step at a small batch multiplies a handful of rows:
/// each product takes microseconds, and waking a second OpenMP thread for it costs more than it saves. Measured by
/// <c>research bench --section contention</c> on 2 cores (data/bench/contention.json): greedy decoding of 16 tokens at
/// batch 1 took 4.9 ms on one thread and 10.6 ms on two with OpenMP threads that sleep between regions — and on one
/// thread it stays near 5 ms beside a busy core or a second copy. So decoding with at most <see cref="SmallBatch"/> rows
/// runs on one thread; larger batches (evaluation decodes 256 sources at a time) and training keep every thread.
/// </summary>
public static class IntraOpThreads
{
    /// <summary>Up to this many rows (sources × beam or length candidates), decoding runs on one thread.</summary>
    public const int SmallBatch = 4;

    static int pinned;

    /// <summary>Runs on <paramref name="threads"/> threads until disposed, then restores the count it found; while any such scope is open the automatic choice of <see cref="ForDecoding"/> stands aside (a benchmark pins what it measures).</summary>
    public static IDisposable Use(int threads) => new Scope(threads, pin: true);

    /// <summary>One thread for a decoding step over <paramref name="rows"/> rows when that is at most <see cref="SmallBatch"/>; otherwise (or inside <see cref="Use"/>) nothing changes.</summary>
    public static IDisposable? ForDecoding(long rows) =>
        rows <= SmallBatch && Volatile.Read(ref pinned) == 0 && torch.get_num_threads() > 1 ? new Scope(1, pin: false) : null;

    sealed class Scope : IDisposable
    {
        readonly int before;
        readonly bool pin;

        public Scope(int threads, bool pin)
        {
            before = torch.get_num_threads();
            this.pin = pin;
            if (pin) Interlocked.Increment(ref pinned);
            torch.set_num_threads(threads);
        }

        public void Dispose()
        {
            torch.set_num_threads(before);
            if (pin) Interlocked.Decrement(ref pinned);
        }
    }
}
