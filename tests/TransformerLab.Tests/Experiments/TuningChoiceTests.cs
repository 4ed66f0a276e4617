using TransformerLab.Experiments;
using Xunit;

namespace TransformerLab.Tests.Experiments;

public sealed class TuningChoiceTests
{
    sealed record Run(string Name, double Error, double Step, bool Diverged = false);

    static Run? Choose(int settings, params Run[] runs) => TuningChoice.Choose(runs, settings, r => r.Diverged, r => r.Error, r => r.Step);

    [Fact]
    public void No_choice_until_every_setting_has_finished()
    {
        Assert.Null(Choose(3, new("a", 0.01, 100), new("b", 0.2, 100)));
        Assert.Equal("a", Choose(3, new("a", 0.01, 100), new("b", 0.2, 100), new("c", 0.05, 100))!.Name);
    }

    [Fact]
    public void The_lowest_best_dev_error_wins_a_tie_goes_to_fewer_steps_and_a_diverged_run_never_wins()
    {
        Assert.Equal("c", Choose(3, new("a", 0.05, 900), new("b", 0.01, 100, Diverged: true), new("c", 0.05, 400))!.Name);
        Assert.Null(Choose(2, new("a", 0.05, 900, Diverged: true), new("b", double.NaN, 0)));
    }
}
