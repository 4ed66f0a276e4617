using System.Diagnostics;

namespace TransformerLab.Runtime;

/// <summary>What a finished helper process printed: its exit code (null if it could not start or ran past its time), standard output and error.</summary>
public sealed record ProcessOutput(int? ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/> and waits for
    /// it: both streams are read concurrently (a chatty stderr cannot block it), and a process past <paramref name="timeout"/>
    /// is killed with its children. A program that is not installed gives a null exit code and the reason as its error.
    /// </summary>
    public static ProcessOutput Run(string program, string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return new(null, "", $"did not answer within {timeout.TotalSeconds:0} s");
            }
            return new(process.ExitCode, output.Result, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return new(null, "", e.Message); }
    }
}
