using System.Runtime.InteropServices;

namespace TransformerLab.Runtime;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM (kill, Slurm's time limit, docker stop) as one cancellation token, for a process that
/// must stop cleanly — finish the step, save, leave the run resumable — instead of dying mid-write. Both handlers are
/// removed on <see cref="Dispose"/>. With <c>secondCtrlCKills</c>, a second Ctrl+C is not intercepted, so it
/// ends the process the usual way.
/// </summary>
public sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource source = new();
    readonly PosixSignalRegistration terminate;
    readonly ConsoleCancelEventHandler interrupt;

    /// <param name="onStop">Called once, with "interrupt" or "terminate", when the first signal arrives (e.g. to say what happens now).</param>
    public StopSignals(Action<string>? onStop = null, bool secondCtrlCKills = true)
    {
        interrupt = (_, e) =>
        {
            if (source.IsCancellationRequested && secondCtrlCKills) return;
            e.Cancel = true;
            Stop("interrupt");
        };
        Console.CancelKeyPress += interrupt;
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; Stop("terminate"); });

        void Stop(string signal)
        {
            if (source.IsCancellationRequested) return;
            source.Cancel();
            onStop?.Invoke(signal);
        }
    }

    public CancellationToken Token => source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= interrupt;
        terminate.Dispose();
        source.Dispose();
    }
}
