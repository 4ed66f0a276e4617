using System.Diagnostics;
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

    /// <summary>
    /// Passes a stop on to a child process as SIGTERM, so it stops the way this one does (finish the step, save). Ctrl+C in a
    /// terminal reaches the whole process group, but a SIGTERM sent to this process alone (kill, Slurm's scancel) does not
    /// reach its children. Windows has no SIGTERM: there the child is killed and resumes from its last checkpoint.
    /// </summary>
    public static void Forward(Process child)
    {
        try
        {
            if (child.HasExited) return;
            if (OperatingSystem.IsWindows()) child.Kill(entireProcessTree: true);
            else _ = kill(child.Id, SigTerm);
        }
        catch (InvalidOperationException) { } // it exited meanwhile
    }

    const int SigTerm = 15;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    public void Dispose()
    {
        Console.CancelKeyPress -= interrupt;
        terminate.Dispose();
        source.Dispose();
    }
}
