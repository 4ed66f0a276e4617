using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TransformerLab.Benchmarks;

/// <summary>
/// The PyTorch peer a user of this machine would compare with (Debian's <c>python3-torch</c>): <c>pytorch_peer.py</c>,
/// shipped beside this library, running in its own Python process and timing the bench's workloads written in PyTorch.
/// The bench asks it for one turn at a time, so its turns interleave with ours (see <c>Bench.PyTorch.cs</c>).
/// </summary>
public sealed class PyTorchPeer : IDisposable
{
    /// <summary>The Python the peer runs with: <c>RESEARCH_PYTORCH_PYTHON</c> if set, else Debian's <c>/usr/bin/python3</c> (where <c>apt-get install python3-torch</c> puts torch).</summary>
    public static string Python => Environment.GetEnvironmentVariable("RESEARCH_PYTORCH_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    public static string Script => Path.Combine(Path.GetDirectoryName(typeof(PyTorchPeer).Assembly.Location) ?? AppContext.BaseDirectory, "Benchmarks", "pytorch_peer.py");

    readonly Process process;

    /// <summary>The peer's torch version, the BLAS library it really loaded (Debian's reference BLAS is ~30× slower than
    /// OpenBLAS: a comparison with it measures the BLAS, not PyTorch) and the CPU capability it dispatches to.</summary>
    public string Version { get; }

    PyTorchPeer(Process process, string version) => (this.process, Version) = (process, version);

    /// <summary>Starts the peer with <paramref name="python"/>, or returns null with the reason it cannot run here (no Python, no torch).</summary>
    public static PyTorchPeer? TryStart(string python, out string reason)
    {
        reason = "";
        if (!File.Exists(Script)) { reason = $"{Script} is missing from the build output"; return null; }
        var info = new ProcessStartInfo(python) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script);
        Process? process;
        try { process = Process.Start(info); }
        catch (System.ComponentModel.Win32Exception e) { reason = $"{python} cannot start ({e.Message}); set RESEARCH_PYTORCH_PYTHON to a Python with torch"; return null; }
        if (process is null) { reason = $"{python} did not start"; return null; }
        process.ErrorDataReceived += (_, _) => { }; // drained, so a chatty import cannot block the peer
        process.BeginErrorReadLine();
        if (Ask(process, "info") is not { } root)
        {
            Stop(process);
            reason = $"{python} has no torch (Debian: apt-get install python3-torch libopenblas0-pthread; or set RESEARCH_PYTORCH_PYTHON)";
            return null;
        }
        return new PyTorchPeer(process, $"PyTorch {root.GetProperty("torch").GetString()} ({python}), BLAS {root.GetProperty("blas").GetString()}, CPU capability {root.GetProperty("capability").GetString()}, {root.GetProperty("default_threads").GetInt32()} thread(s) by default");
    }

    /// <summary>Seconds per call of <paramref name="workload"/> ("mha" at T = size, "greedy" at L = size) over <paramref name="calls"/> calls on <paramref name="threads"/> threads (0: PyTorch's default count).</summary>
    public double SecondsPerCall(string workload, int size, int threads, int calls) =>
        Ask(process, string.Create(CultureInfo.InvariantCulture, $"{workload} {size} {threads} {calls}"))?.GetProperty("seconds_per_call").GetDouble()
        ?? throw new InvalidOperationException($"the PyTorch peer stopped answering ({workload} {size}); run {Python} {Script} by hand to see why");

    /// <summary>One request line to the peer and its one-line JSON answer; null when the peer has gone (no torch, a crash).</summary>
    static JsonElement? Ask(Process process, string request)
    {
        try
        {
            process.StandardInput.WriteLine(request);
            process.StandardInput.Flush();
            var line = process.StandardOutput.ReadLine();
            return line is null ? null : JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (IOException) { return null; }
    }

    static void Stop(Process process)
    {
        try { process.StandardInput.Close(); if (!process.WaitForExit(5000)) process.Kill(); }
        catch (InvalidOperationException) { }
        process.Dispose();
    }

    public void Dispose() => Stop(process);
}
