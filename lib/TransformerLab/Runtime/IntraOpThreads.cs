using TorchSharp;

namespace TransformerLab.Runtime;

/// <summary>
/// LibTorch's intra-op thread count, chosen for the work. A decoding step multiplies a few rows by the model's matrices:
/// each product takes microseconds, and waking a second OpenMP thread for it (they sleep between regions: PASSIVE,
/// <see cref="OpenMpWaitPolicy"/>) costs more than it saves. Measured on 2 cores by <c>research bench --section
/// decoding-threads</c> (data/bench/pytorch/decoding-threads.json, 16 cached greedy steps, idle machine): at d_model 128
/// two threads were slower than one at every batch from 1 to 256 rows (1.3× at 256), at d_model 256 slower up to 64 rows,
/// even at 128 (0.99×) and faster only at 256 (0.88×). The work of one step's products grows with rows × width, so a
/// decoding whose rows × width is at most <see cref="OneThreadWork"/> runs on one thread; larger ones and training keep every thread.
/// </summary>
public static class IntraOpThreads
{
    /// <summary>Up to this many rows × model width (sources × candidates × d_model), decoding runs on one thread: the measured crossover (128 rows at d_model 256).</summary>
    public const long OneThreadWork = 32_768;

    static int pinned;

    /// <summary>Runs on <paramref name="threads"/> threads until disposed, then restores the count it found; while any such scope is open the automatic choice of <see cref="ForDecoding"/> stands aside (a benchmark pins what it measures).</summary>
    public static IDisposable Use(int threads) => new Scope(threads, pin: true);

    /// <summary>One thread for a decoding step over <paramref name="rows"/> rows of a model <paramref name="width"/> wide when rows × width is at most <see cref="OneThreadWork"/>; otherwise (or inside <see cref="Use"/>) nothing changes.</summary>
    public static IDisposable? ForDecoding(long rows, long width) =>
        rows * Math.Max(width, 1) <= OneThreadWork && Volatile.Read(ref pinned) == 0 && torch.get_num_threads() > 1 ? new Scope(1, pin: false) : null;

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
