using System.Reflection;
using TransformerLab.Experiments;
using TransformerLab.Reporting;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Reporting;

/// <summary>
/// The report's sweeps are written as typed settings (issue 37), and each prints the command that makes its runs: that
/// command, parsed as <c>research sweep</c> parses it, plans exactly the runs the typed sweep plans — so a reader who
/// copies it reproduces the table, and the typed form cannot drift from the runs the store holds.
/// </summary>
public sealed class TypedSweepsTests
{
    static IEnumerable<(string Name, SweepSpec Sweep)> Sweeps()
    {
        foreach (var member in typeof(ExperimentsTables).GetMembers(BindingFlags.Public | BindingFlags.Static))
        {
            var value = member switch { FieldInfo f => f.GetValue(null), PropertyInfo p => p.GetValue(null), _ => null };
            IEnumerable<SweepSpec> found = value switch
            {
                SweepSpec s => [s],
                IEnumerable<SweepSpec> many => many,
                IEnumerable<ArchitectureVariant> variants => variants.Select(v => v.Sweep),
                IEnumerable<(SweepSpec Sweep, string[] Arms, Func<RunRecord, string> Arm)> tuned => tuned.Select(t => t.Sweep),
                _ => [],
            };
            foreach (var sweep in found) yield return (member.Name, sweep);
        }
    }

    /// <summary>The sweep as <c>research sweep</c> plans it from the printed command line's words.</summary>
    static IReadOnlyList<RunSpec> FromCommandLine(string commandLine)
    {
        var words = commandLine.Split(' ');
        string Value(int i) => words[i + 1];
        var sets = Enumerable.Range(0, words.Length).Where(i => words[i] == "--set").Select(i => Settings.Assignment(Value(i)));
        var grid = Enumerable.Range(0, words.Length).Where(i => words[i] == "--grid").Select(i => Sweep.GridAxis(Value(i))).ToList();
        int Number(string flag, int otherwise) => Array.IndexOf(words, flag) is var i and >= 0 ? int.Parse(Value(i)) : otherwise;
        return Sweep.Plan(ExperimentRegistry.Get(words[2]), sets, grid, Number("--seeds", 1), Number("--first-seed", 1));
    }

    [Fact]
    public void Every_sweeps_command_line_plans_the_runs_of_its_typed_settings()
    {
        var sweeps = Sweeps().ToList();
        Assert.True(sweeps.Count >= 30, $"found only {sweeps.Count} sweeps");
        foreach (var (name, sweep) in sweeps)
            Assert.True(sweep.Plan().Select(r => r.Key).SequenceEqual(FromCommandLine(sweep.CommandLine).Select(r => r.Key)), $"{name}: `{sweep.CommandLine}` plans other runs");
    }

    [Fact]
    public void A_sweep_sets_only_what_differs_from_its_experiments_defaults_and_no_grid_key()
    {
        var sweep = SweepSpec.Of("train", 1, s => s.WithOptimiser(o => o with { Lr = 0.002, Warmup = 1000 }).WithLoop(l => l with { MaxSteps = 300 }), ("max_steps", "300,600"));
        Assert.Equal([KeyValuePair.Create("lr", "0.002")], sweep.Set); // warmup 1000 is the default; max_steps is the grid's
        Assert.Equal(2, sweep.Plan().Count);
    }
}
