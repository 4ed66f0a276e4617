using System.Diagnostics;
using TransformerLab.Runtime;
using System.Threading.Channels;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Connection;
using Microsoft.DotNet.Interactive.Events;

namespace TransformerLab.Cli.Publishing;

/// <summary>The kernel could not be started, stopped answering, or a cell ran over its time; the message says which.</summary>
public sealed class KernelException(string message) : Exception(message);

/// <summary>
/// The .NET Interactive kernel that VS Code Polyglot Notebooks starts — <c>dotnet-interactive stdio</c>, pinned in the
/// workspace's tool manifest (<c>.config/dotnet-tools.json</c>) — driven the way VS Code drives it: one JSON command
/// envelope per line on standard input, one event envelope per line back, in the library's own envelope types.
/// One process per notebook, as VS Code starts one per open notebook; disposing it ends the process tree (the kernel
/// does not exit when its standard input closes).
/// </summary>
public sealed class StdioKernel : IAsyncDisposable
{
    /// <summary>The tool's command name in the manifest.</summary>
    public const string Tool = "dotnet-interactive";

    readonly Process _process;
    readonly Channel<KernelEvent> _events = Channel.CreateUnbounded<KernelEvent>(new() { SingleReader = true });
    readonly Queue<string> _log = new(); // the last lines the process wrote that were not events, for error messages
    readonly Task _reader, _errorReader;

    StdioKernel(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadEventsAsync);
        _errorReader = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line) Remember(line);
        });
    }

    /// <summary>The subkernels this kernel offers (csharp, fsharp, pwsh, …), by name and alias.</summary>
    public IReadOnlyList<Microsoft.DotNet.Interactive.KernelInfo> Kernels { get; private set; } = [];

    /// <summary>From starting the process to the kernel's <c>KernelReady</c>.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>
    /// Starts the kernel in <paramref name="workspace"/> (where the tool manifest is), with the notebook's folder as its
    /// working directory, as VS Code does, and waits for it to be ready.
    /// </summary>
    public static async Task<StdioKernel> StartAsync(string workspace, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workspace,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["tool", "run", Tool, "--", "stdio", "--default-kernel", "csharp", "--working-dir", workingDirectory])
            info.ArgumentList.Add(arg);
        info.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var clock = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(info) ?? throw new KernelException("could not start 'dotnet'."); }
        catch (System.ComponentModel.Win32Exception e) { throw new KernelException($"could not start 'dotnet' ({e.Message}): is the .NET SDK on PATH?"); }
        var kernel = new StdioKernel(process);
        try
        {
            var late = $"the kernel was not ready within {timeout.TotalSeconds:0.#} s.";
            KernelReady? ready = null;
            while (ready is null) ready = await kernel.NextAsync(timeout - clock.Elapsed, late, starting: true) as KernelReady;
            kernel.Kernels = ready.KernelInfos.ToList();
            kernel.StartTime = clock.Elapsed;
            return kernel;
        }
        catch
        {
            await kernel.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// What <c>research doctor</c> reports: the version the manifest pins, and the version that actually runs
    /// (<c>dotnet tool run dotnet-interactive -- --version</c>), or why it does not.
    /// </summary>
    public static (string? Pinned, string Running) Version(string workspace)
    {
        string? pinned = null;
        var manifest = Path.Combine(workspace, ".config", "dotnet-tools.json");
        if (File.Exists(manifest))
            pinned = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))?["tools"]?["microsoft.dotnet-interactive"]?["version"]?.GetValue<string>();
        var run = ProcessOutput.Run("dotnet", workspace, ["tool", "run", Tool, "--", "--version"], TimeSpan.FromSeconds(60));
        return (pinned, run.Succeeded
            ? run.Output.Trim().Split('+')[0]
            : run.ExitCode is null ? $"not runnable: {run.Error}"
            : $"not runnable ({(run.Error + run.Output).Trim().Split('\n')[0]}): run 'dotnet tool restore' in the workspace");
    }

    /// <summary>
    /// Submits one cell's code to the subkernel <paramref name="kernelName"/> and hands every event that belongs to it
    /// (its own token or a child's) to <paramref name="onEvent"/>, in order, up to and including its completion.
    /// </summary>
    /// <returns>The command's completion: <see cref="CommandSucceeded"/> or <see cref="CommandFailed"/>.</returns>
    public async Task<KernelCommandCompletionEvent> SubmitAsync(string code, string kernelName, TimeSpan timeout, Action<KernelEvent> onEvent)
    {
        var command = new SubmitCode(code, kernelName);
        var token = command.GetOrCreateToken();
        await _process.StandardInput.WriteLineAsync(KernelCommandEnvelope.Serialize(KernelCommandEnvelope.Create(command)));
        await _process.StandardInput.FlushAsync();

        var clock = Stopwatch.StartNew();
        while (true)
        {
            var e = await NextAsync(timeout - clock.Elapsed, $"the cell did not finish within {timeout.TotalSeconds:0.#} s (--timeout).", starting: false);
            var owner = e.Command?.GetOrCreateToken();
            if (owner is null || !(owner == token || owner.StartsWith(token + ".", StringComparison.Ordinal))) continue;
            onEvent(e);
            if (e is KernelCommandCompletionEvent done && owner == token) return done;
        }
    }

    /// <summary>The next event, or an error when <paramref name="remaining"/> runs out or the process ends.</summary>
    async Task<KernelEvent> NextAsync(TimeSpan remaining, string timeoutMessage, bool starting)
    {
        if (remaining <= TimeSpan.Zero) throw new KernelException(timeoutMessage);
        using var cancel = new CancellationTokenSource(remaining);
        try
        {
            if (await _events.Reader.WaitToReadAsync(cancel.Token) && _events.Reader.TryRead(out var e)) return e;
        }
        catch (OperationCanceledException) { throw new KernelException(timeoutMessage); }
        await Task.WhenAny(_errorReader, Task.Delay(TimeSpan.FromSeconds(2)));
        var code = _process.WaitForExit(2000) ? $" with exit code {_process.ExitCode}" : "";
        throw new KernelException(starting
            ? $"the kernel exited{code} before it was ready. Restore the workspace's pinned kernel with 'dotnet tool restore' (the build does this).{LogTail()}"
            : $"the kernel exited{code} while running the cell.{LogTail()}");
    }

    async Task ReadEventsAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                // The first run of the tool prints a welcome banner before the protocol starts: not an event.
                if (!line.StartsWith('{')) { Remember(line); continue; }
                IKernelEventEnvelope envelope;
                try { envelope = KernelEventEnvelope.Deserialize(line); }
                catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or ArgumentException)
                {
                    Remember(line);
                    continue;
                }
                await _events.Writer.WriteAsync(envelope.Event);
            }
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    void Remember(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        lock (_log)
        {
            _log.Enqueue(line.TrimEnd());
            if (_log.Count > 20) _log.Dequeue();
        }
    }

    string LogTail()
    {
        lock (_log) return _log.Count == 0 ? "" : " It said:\n" + string.Join("\n", _log);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception) { }
        await Task.WhenAny(Task.WhenAll(_reader, _errorReader), Task.Delay(TimeSpan.FromSeconds(2)));
        _process.Dispose();
    }
}
