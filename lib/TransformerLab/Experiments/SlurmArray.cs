using TransformerLab.Training;
using System.Diagnostics;
using System.Text;
using TransformerLab.Runtime;

namespace TransformerLab.Experiments;

/// <summary>An error talking to Slurm (no <c>sbatch</c>, a refused submission): the message says what to do.</summary>
public sealed class SlurmException(string message) : Exception(message);

/// <summary>
/// How the array job asks Slurm for resources: <see cref="Tasks"/> array tasks (task i runs shard i/Tasks of the sweep),
/// at most <see cref="ArrayParallelism"/> at once; the rest are <c>sbatch</c> options passed as given.
/// </summary>
public sealed record SlurmOptions(int Tasks, string? Partition = null, string? Time = null, int CpusPerTask = 1, int? ArrayParallelism = null)
{
    public void Validate()
    {
        if (Tasks < 1) throw new SettingsException($"--tasks must be at least 1 (got {Tasks}).");
        if (CpusPerTask < 1) throw new SettingsException($"--cpus-per-task must be at least 1 (got {CpusPerTask}).");
        if (ArrayParallelism is < 1) throw new SettingsException($"--array-parallelism must be at least 1 (got {ArrayParallelism}).");
    }
}

/// <summary>
/// A sweep as a Slurm job array. The sweep is the same command a local run is — the same experiment, grid, settings
/// and seeds, hence the same run keys — with <c>--shard $SLURM_ARRAY_TASK_ID/N</c> and a results store on a file
/// system every node sees. The store is the array's only shared state: a task skips runs already finished, a run a
/// task left failed is redone by resubmitting with <c>--retry-failed</c>, and a task stopped by its time limit
/// (SIGTERM) leaves its run resumable from the last checkpoint.
/// </summary>
public static class SlurmArray
{
    /// <summary>The array task's index in the command: expanded by the shell of each task.</summary>
    public const string TaskIndex = "${SLURM_ARRAY_TASK_ID}";

    /// <summary>
    /// The <c>sbatch</c> script: one array task per shard, each running <paramref name="command"/> (an argument in it may
    /// contain <see cref="TaskIndex"/>) in <paramref name="workingDirectory"/>; each task's output in
    /// <paramref name="logFolder"/> as <c>JOBID_TASK.out</c>.
    /// </summary>
    public static string Script(string jobName, IReadOnlyList<string> command, string workingDirectory, string logFolder, SlurmOptions options)
    {
        options.Validate();
        var script = new StringBuilder("#!/bin/bash\n");
        script.Append($"#SBATCH --job-name={jobName}\n");
        script.Append($"#SBATCH --array=0-{options.Tasks - 1}{(options.ArrayParallelism is { } k ? $"%{k}" : "")}\n");
        script.Append($"#SBATCH --cpus-per-task={options.CpusPerTask}\n");
        script.Append("#SBATCH --ntasks=1\n");
        if (options.Partition is { } partition) script.Append($"#SBATCH --partition={partition}\n");
        if (options.Time is { } time) script.Append($"#SBATCH --time={time}\n");
        // sbatch reads the directive's value itself (no shell): quoted for spaces, a literal % doubled (%A and %a are Slurm's)
        script.Append($"#SBATCH --output=\"{logFolder.Replace("%", "%%")}/%A_%a.out\"\n");
        // B: signals the batch shell — which exec'd the sweep — 60 s before the time limit: the run under way saves a
        // checkpoint and stays pending (without B:, only job steps are signalled, and the sweep is not one).
        script.Append("#SBATCH --signal=B:TERM@60\n");
        script.Append("set -euo pipefail\n");
        script.Append($"cd {Quote(workingDirectory)}\n");
        script.Append("exec ").Append(string.Join(" ", command.Select(Quote))).Append('\n');
        return script.ToString();
    }

    /// <summary>Writes <paramref name="script"/> atomically, executable.</summary>
    public static void Write(string path, string script)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(script));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Submits the script with <c>sbatch --parsable</c>; returns the array's job id.</summary>
    /// <exception cref="SlurmException">no <c>sbatch</c> on PATH, or Slurm refused the job (its message included).</exception>
    public static string Submit(string scriptPath, string workingDirectory)
    {
        var info = new ProcessStartInfo("sbatch") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        info.ArgumentList.Add("--parsable");
        info.ArgumentList.Add(scriptPath);
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new SlurmException($"sbatch is not on PATH: submit from a Slurm login node, or submit the script yourself (sbatch {scriptPath}).");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new SlurmException($"sbatch refused the job (exit {process.ExitCode}): {error.Result.Trim()} — the script is {scriptPath}.");
            // --parsable prints "jobid" or "jobid;cluster"
            return output.Result.Trim().Split(';')[0];
        }
    }

    /// <summary>A shell word: as it is when it is plain, in double quotes when it expands the task index, otherwise in single quotes.</summary>
    static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=+,:@%".Contains(c))) return word;
        if (word.Contains(TaskIndex, StringComparison.Ordinal))
        {
            var escaped = word.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("`", "\\`").Replace("$", "\\$").Replace("\\${SLURM_ARRAY_TASK_ID}", TaskIndex);
            return $"\"{escaped}\"";
        }
        return "'" + word.Replace("'", "'\\''") + "'";
    }
}

/// <summary>
/// Where a sweep stands in its store: how many of its runs are in each state, and for each failed, interrupted or damaged
/// run why (<see cref="Problems"/>).
/// </summary>
public sealed record SweepStatus(int Total, int Done, int Diverged, int Failed, int Interrupted, int Damaged, int Running, int Pending,
    IReadOnlyList<(string Key, int Seed, RunState State, string? Reason)> Problems)
{
    public static SweepStatus Of(ResultsStore store, IReadOnlyList<RunSpec> plan)
    {
        var states = plan.Select(spec => (Spec: spec, Run: store.Inspect(spec))).ToList();
        int Count(RunState s) => states.Count(x => x.Run.State == s);
        var problems = states.Where(x => x.Run.State is RunState.Failed or RunState.Interrupted or RunState.Damaged)
            .Select(x => (x.Spec.Key, x.Spec.Seed, x.Run.State, x.Run.Reason)).ToList();
        return new(plan.Count, Count(RunState.Done), Count(RunState.Diverged), Count(RunState.Failed), Count(RunState.Interrupted), Count(RunState.Damaged),
            Count(RunState.Running), Count(RunState.Pending), problems);
    }
}
