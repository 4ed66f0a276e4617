namespace TransformerLab.Experiments;

/// <summary>
/// Ownership of one run folder: an exclusive advisory lock (<c>flock</c> on Linux and macOS, a share-mode lock on Windows)
/// on the file <c>.lock</c> in it, held for as long as a process runs the run. The kernel drops the lock when its owner
/// dies however it dies (SIGKILL, OOM, a node's time limit), so a crashed owner can never keep a run forever, and no
/// pid or heartbeat has to be trusted. Two terminals, <c>--jobs</c> children and Slurm array tasks on a shared file
/// system (NFS passes <c>flock</c> on to its lock manager) therefore agree on who runs a run. The file itself stays:
/// deleting a lock file while another process waits on it would let two owners in.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".lock";

    readonly FileStream stream;

    RunLock(FileStream stream) => this.stream = stream;

    /// <summary>
    /// The run's lock, or null when another live process holds it. Retries for <paramref name="patience"/> (default ½ s),
    /// because <see cref="IsHeld"/> takes the lock for an instant to test it.
    /// </summary>
    public static RunLock? TryAcquire(string folder, TimeSpan? patience = null)
    {
        Directory.CreateDirectory(folder);
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromMilliseconds(500));
        while (true)
        {
            if (TryOpen(folder) is { } stream) return new RunLock(stream);
            if (DateTime.UtcNow >= deadline) return null;
            Thread.Sleep(20);
        }
    }

    /// <summary>True while some process (this one included) holds the run's lock.</summary>
    public static bool IsHeld(string folder)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(folder, FileName), FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (FileNotFoundException) { return false; }
        catch (DirectoryNotFoundException) { return false; }
        catch (UnauthorizedAccessException) { return false; } // a store we may only read: nobody here can be running it
        catch (IOException) { return true; }
    }

    /// <remarks>
    /// .NET takes <c>flock(LOCK_EX | LOCK_NB)</c> for <see cref="FileShare.None"/> on Unix and fails the open with an
    /// <see cref="IOException"/> while another open file description holds it (unless DOTNET_SYSTEM_IO_DISABLEFILELOCKING
    /// turns .NET's file locking off, which <see cref="ResultsStore"/> refuses).
    /// </remarks>
    static FileStream? TryOpen(string folder)
    {
        try { return new FileStream(Path.Combine(folder, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
    }

    /// <summary>Whether this process can lock at all: .NET's file locking can be switched off by the environment.</summary>
    public static string? Unavailable() =>
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is "1" or "true"
            ? "DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set, so runs cannot be locked and two processes could train the same run; unset it."
            : null;

    public void Dispose() => stream.Dispose();
}
