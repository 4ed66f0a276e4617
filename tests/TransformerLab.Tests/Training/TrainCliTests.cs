using TransformerLab.Cli;
using TransformerLab.Tests.Foundation;
using Xunit;

namespace TransformerLab.Tests.Training;

/// <summary><c>research train</c> and <c>research eval</c> end to end, and their errors.</summary>
public sealed class TrainCliTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-cli-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    static readonly string[] Tiny =
    [
        "--set", "symbols=5", "--set", "min_length=2", "--set", "max_length=4", "--set", "train_size=300", "--set", "dev_size=20", "--set", "test_size=20",
        "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=32", "--set", "encoder_layers=1", "--set", "decoder_layers=1",
        "--set", "batch_size=16", "--set", "max_steps=10", "--set", "eval_every=10", "--set", "warmup=2",
    ];

    [Fact]
    public void Train_then_eval_writes_checkpoints_metrics_and_predictions()
    {
        var (exit, output, error) = CliTests.Run(["train", "--task", "reverse", "--out", folder, .. Tiny]);
        Assert.True(exit == ResearchCli.Ok, error);
        Assert.Contains("done after 10 steps", output);
        foreach (var file in new[] { "settings.json", "steps.csv", "dev.csv", "best.ckpt", "last.ckpt", "summary.json" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);

        var predictions = Path.Combine(folder, "test.tsv");
        (exit, output, error) = CliTests.Run("eval", "--checkpoint", Path.Combine(folder, "best.ckpt"), "--split", "test", "--beam", "3", "--out", predictions);
        Assert.True(exit == ResearchCli.Ok, error);
        Assert.Contains("exact match", output);
        Assert.Contains("beam 3", output);
        Assert.Equal(21, File.ReadAllLines(predictions).Length); // header + 20 items
        Assert.Contains("\"sequence_error\"", File.ReadAllText(Path.ChangeExtension(predictions, ".json")));
    }

    [Fact]
    public void A_run_that_is_all_warm_up_trains_but_says_so()
    {
        var (exit, _, error) = CliTests.Run(["train", "--task", "reverse", "--out", folder, .. Tiny, "--set", "warmup=10"]);
        Assert.True(exit == ResearchCli.Ok, error);
        Assert.Contains("warning: warmup (10) ≥ max_steps (10): every step is warm-up", error);
        var (_, _, quiet) = CliTests.Run(["train", "--task", "reverse", "--out", folder + "-2", .. Tiny]);
        Assert.DoesNotContain("warning", quiet);
        Directory.Delete(folder + "-2", recursive: true);
    }

    [Fact]
    public void A_config_file_applies_before_set_and_list_shows_the_result()
    {
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, """{ "d_model": 48, "norm": "post", "lr": 0.002, "tie_embeddings": false }""");
        var (exit, output, error) = CliTests.Run("train", "--task", "sort", "--config", config, "--set", "lr=0.004", "--list");
        Assert.True(exit == ResearchCli.Ok, error);
        Assert.Matches(@"d_model\s*[│|]\s*an integer\s*[│|]\s*48", output);
        Assert.Matches(@"norm\s*[│|]\s*one of post \| pre\s*[│|]\s*post", output);
        Assert.Matches(@"lr\s*[│|]\s*a number\s*[│|]\s*0\.004", output);      // --set wins over the file
        Assert.Matches(@"tie_embeddings\s*[│|]\s*true or false\s*[│|]\s*false", output);
        // every key says what it sets, from its property's documentation
        Assert.Matches(@"warmup\s*[│|][^│|]*[│|][^│|]*[│|]\s*Steps of linear learning-rate warm-up", output);
        var descriptions = TransformerLab.Training.Settings.Descriptions(typeof(TransformerLab.Training.TrainingSettings));
        Assert.All(descriptions, d => Assert.False(string.IsNullOrWhiteSpace(d.Value), $"{d.Key} has no description"));

        File.WriteAllText(config, """{ "d_model": "wide" }""");
        (exit, _, error) = CliTests.Run("train", "--task", "sort", "--config", config, "--list");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("Setting 'd_model' expects an integer, got 'wide'", error);
    }

    [Fact]
    public void The_task_set_as_a_setting_brings_its_own_defaults_like_task_does()
    {
        var (exit, bySetting, error) = CliTests.Run("train", "--set", "task=sort", "--list");
        Assert.True(exit == ResearchCli.Ok, error);
        var (_, byOption, _) = CliTests.Run("train", "--task", "sort", "--list");
        Assert.Equal(byOption, bySetting);
        Assert.Matches(@"d_model\s*[│|]\s*an integer\s*[│|]\s*128", bySetting); // sort's default, not g2p's 256
    }

    [Fact]
    public void A_finished_run_is_not_overwritten_without_resume()
    {
        Assert.Equal(ResearchCli.Ok, CliTests.Run(["train", "--task", "copy", "--out", folder, .. Tiny]).Exit);
        var summary = File.ReadAllText(Path.Combine(folder, "summary.json"));
        var (exit, _, error) = CliTests.Run(["train", "--task", "copy", "--out", folder, .. Tiny]);
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("--resume", error);
        Assert.Equal(summary, File.ReadAllText(Path.Combine(folder, "summary.json")));
    }

    [Theory]
    [InlineData("d_modle=8", "Unknown setting 'd_modle'")]
    [InlineData("lr=fast", "Setting 'lr' expects a number")]
    [InlineData("heads=3", "must be divisible by heads")]
    [InlineData("task=sort", "--task is copy")]
    public void A_bad_setting_exits_two_and_names_it(string setting, string message)
    {
        var (exit, _, error) = CliTests.Run("train", "--task", "copy", "--out", folder, "--set", setting);
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains(message, error);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Eval_of_a_missing_or_corrupt_checkpoint_exits_one_with_the_reason()
    {
        var (exit, _, error) = CliTests.Run("eval", "--checkpoint", Path.Combine(folder, "nope.ckpt"));
        Assert.Equal(ResearchCli.Failed, exit);
        Assert.Contains("not found", error);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "bad.ckpt"), "TLABCKPT and then nonsense that is long enough to have a trailer");
        (exit, _, error) = CliTests.Run("eval", "--checkpoint", Path.Combine(folder, "bad.ckpt"));
        Assert.Equal(ResearchCli.Failed, exit);
        Assert.Contains("corrupt", error);
    }
}
