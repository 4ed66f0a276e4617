using System.CommandLine;
using Spectre.Console;
using TransformerLab.Cli.Commands;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Cli;

/// <summary>Exit codes and error reporting shared by every verb.</summary>
public static class ResearchCli
{
    public const int Ok = 0, Failed = 1, Usage = 2;
    /// <summary>A training run that diverged: a recorded result, not a crash (see its summary.json).</summary>
    public const int Diverged = 3;
    /// <summary>Stopped by Ctrl+C after saving a checkpoint; continue with --resume (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>The <c>research</c> command with every verb that works today.</summary>
    public static RootCommand Root() => new("Transformer Lab for .NET: the Transformer from its parts, each idea reproduced by an experiment.")
    {
        DoctorCommand.Create(),
        NotebooksCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        DataCommand.Create(),
        SweepCommand.Create(),
        BenchCommand.Create(),
        ReportCommand.Create(),
    };

    /// <summary>
    /// Parses and runs. A parse error (unknown verb or option, bad value) prints the errors and the verb's usage on
    /// stderr and exits 2; a <see cref="UsageException"/> from a verb exits 2; a failure to load LibTorch exits 1.
    /// </summary>
    public static int Run(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine();
            var path = new List<string>();
            for (var c = parsed.CommandResult; c?.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent)
                path.Insert(0, c.Command.Name);
            root.Parse([.. path, "--help"]).Invoke(new InvocationConfiguration { Output = Console.Error });
            return Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Usage;
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Usage;
        }
        catch (CheckpointException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (TorchLoadException e)
        {
            Console.Error.WriteLine(e.Message);
            return Failed;
        }
        catch (InvalidDataException e) // a data or results file that does not read: the message names the file
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Usage;
        }
        catch (IOException e) // the disk is full, a folder is not writable…: the run's last checkpoint is whole (files are written atomically)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Files are written atomically, so what was saved before is whole; free the space or fix the folder, then rerun the same command.");
            return Failed;
        }
        catch (OutOfMemoryException e)
        {
            Console.Error.WriteLine($"error: out of memory ({e.Message}); use a smaller batch, beam or model.");
            return Failed;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("RESEARCH_DEBUG") is not "1")
        {
            // A failure no command expected: say what it was in one line, not as a stack trace; RESEARCH_DEBUG=1 shows the trace.
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine("This is a bug in the workspace, not in your input. Rerun with RESEARCH_DEBUG=1 for the stack trace and report it.");
            return Failed;
        }
    }

    /// <summary>
    /// A Spectre console on the current <see cref="Console.Out"/>. Not the static <c>AnsiConsole</c>: it binds to the
    /// writer of its first use, so output redirected later (tests, the notebook runner) would go to a stale writer.
    /// When stdout is not a terminal (CI logs, <c>nohup</c>, a pipe) it writes plain text: no colours, links or cursor moves.
    /// </summary>
    public static IAnsiConsole Terminal
    {
        get
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(Console.Out),
                Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = IsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
            });
            if (!IsTerminal) console.Profile.Width = 160; // a log has no window to fit: don't wrap tables at 80 columns
            return console;
        }
    }

    /// <summary>Whether stdout is an interactive terminal (progress bars) or a log (plain lines).</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>A table on stdout: rounded boxes on a terminal; in a log or a pipe, a Markdown table of plain ASCII lines (pasteable, and readable without box-drawing glyphs).</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(IsTerminal ? TableBorder.Rounded : TableBorder.Markdown);
        foreach (var c in columns) table.AddColumn(c);
        return table;
    }
}

/// <summary>Bad input from the user: the message names the problem and what to do; exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
