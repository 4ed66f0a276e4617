using TransformerLab.Experiments;
using Xunit;

namespace TransformerLab.Tests.Experiments;

public sealed class TuningChoiceTests
{
    sealed record Run(string Name, double Error, double Step, bool Diverged = false, double Loss = 0);

    static Run? Choose(int settings, params Run[] runs) => TuningChoice.Choose(runs, settings, r => r.Diverged, r => r.Error, r => r.Step, r => r.Loss);

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

    [Fact]
    public void A_tie_in_error_and_steps_goes_to_the_lower_dev_loss_whatever_the_order_of_the_runs()
    {
        // linear attention's tuning on long reverse: lr 2e-3 with warm-up 300 and 1,000 both at 0.8 % from step 11,000
        Run short_ = new("warm-up 300", 0.008, 11000, Loss: 0.00120), long_ = new("warm-up 1000", 0.008, 11000, Loss: 0.00148);
        Assert.Equal("warm-up 300", Choose(2, long_, short_)!.Name);
        Assert.Equal("warm-up 300", Choose(2, short_, long_)!.Name);
        Assert.Equal("fewer steps", Choose(2, new("fewer steps", 0.008, 10500, Loss: 0.002), short_)!.Name); // the loss decides only a tie in both
        Assert.Equal("warm-up 300", Choose(2, new("no loss", 0.008, 11000, Loss: double.NaN), short_)!.Name); // a missing loss never wins (NaN sorts first)
    }
}
