using TransformerLab.Experiments;
using TransformerLab.Notebooks;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>The notebooks' run tables: typed readings in %, and no number where a run has none.</summary>
public sealed class TablesTests
{
    [Fact]
    public void A_training_runs_table_gives_each_runs_readings_in_percent_and_leaves_missing_steps_empty()
    {
        var store = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory));
        var run = store.Load("train").Single(r => r.Key == "726523eb350b"); // notebook 01's trained reverse model
        var t = run.TrainingReadings();
        var table = Tables.TrainingRuns([run], ("setting", _ => "x"));
        Assert.Equal(["run", "setting", "seed", "state", "steps", "best step", "dev sequence error %", "dev symbol error %", "dev token accuracy %"],
            table.Columns.Select(c => c.Name));
        Assert.Equal("726523eb350b", table.Columns["run"][0]);
        Assert.Equal((long)t.BestStep, table.Columns["best step"][0]);
        Assert.Equal(Math.Round(100 * t.DevTokenAccuracy, 2), table.Columns["dev token accuracy %"][0]);
        // a run that diverged before its first evaluation has no best step: an empty cell, never (long)NaN
        var diverged = run with { State = RunState.Diverged, Metrics = new Dictionary<string, double>(run.Metrics) { ["best_step"] = double.NaN } };
        Assert.Null(Tables.TrainingRuns([diverged]).Columns["best step"][0]);
    }
}
