using TransformerLab.Experiments;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Experiments;

/// <summary>
/// A training run's curve.csv is its steps.csv and dev.csv merged by step, read as typed rows (issue 37: the files'
/// formats are records, not column names spelled in code): every committed run's stored curve is what its logs give.
/// </summary>
public sealed class CommittedCurvesTests
{
    [Fact]
    public void Every_committed_training_curve_is_its_steps_and_dev_logs_merged_by_step()
    {
        var store = Path.Combine(Workspace.Root(AppContext.BaseDirectory), "data", "runs");
        var folders = Directory.EnumerateDirectories(store, "*", SearchOption.AllDirectories)
            .Where(f => new[] { "curve.csv", "steps.csv", "dev.csv", "status.json" }.All(n => File.Exists(Path.Combine(f, n))))
            .Where(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(f, "status.json"))).RootElement.GetProperty("state").GetString() is "done" or "diverged")
            .ToList();
        Assert.NotEmpty(folders);
        foreach (var folder in folders)
        {
            var stored = Csv.Read(Path.Combine(folder, "curve.csv"));
            var merged = TrainingExperiment.ReadCurve(folder);
            Assert.True(stored.Count == merged.Count, $"{folder}: {stored.Count} curve rows, {merged.Count} from its logs");
            for (int i = 0; i < stored.Count; i++)
                Assert.True(stored[i].Count == merged[i].Count && stored[i].All(kv => merged[i].TryGetValue(kv.Key, out var v) && (v.Equals(kv.Value))),
                    $"{folder}, curve row {i + 1}: {string.Join(", ", stored[i])} against {string.Join(", ", merged[i])}");
        }
    }
}
