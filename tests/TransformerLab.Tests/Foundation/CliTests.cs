using TransformerLab.Cli;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>The <c>research</c> command's exit codes: 0 on success, 2 for a usage error, with a message on stderr.</summary>
public class CliTests
{
    internal static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (ResearchCli.Run(ResearchCli.Root(), args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    [Fact]
    public void Doctor_runs_a_forward_pass_and_exits_zero()
    {
        var (exit, output, _) = Run("doctor");
        Assert.Equal(ResearchCli.Ok, exit);
        Assert.Contains("LibTorch", output);
        Assert.Contains("[8, 20, 32]", output);
    }

    [Fact]
    public void An_unknown_verb_prints_usage_and_exits_two()
    {
        var (exit, _, error) = Run("frobnicate");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("frobnicate", error);
        Assert.Contains("doctor", error); // the usage lists the verbs
    }

    [Fact]
    public void An_unknown_option_exits_two()
    {
        var (exit, _, error) = Run("doctor", "--colour", "blue");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("--colour", error);
    }

    [Fact]
    public void An_unknown_device_names_the_choices_and_exits_two()
    {
        var (exit, _, error) = Run("doctor", "--device", "tpu");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("cpu, cuda or cuda:N", error);
    }
}
