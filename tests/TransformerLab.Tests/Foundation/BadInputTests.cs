using TransformerLab.Cli;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>
/// Bad input never ends in a stack trace: it gets a message naming the problem and what to do, a non-zero exit code, and
/// nothing written that a later command could take for a result.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-bad-" + Guid.NewGuid().ToString("N"));

    public BadInputTests() => Directory.CreateDirectory(folder);

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>A copy run small enough that a dry run takes a fraction of a second.</summary>
    static readonly string[] Tiny = ["--set", "task=copy", "--set", "symbols=5", "--set", "min_length=2", "--set", "max_length=4", "--set", "train_size=50",
        "--set", "dev_size=8", "--set", "test_size=8", "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=32", "--set", "encoder_layers=1",
        "--set", "decoder_layers=1", "--set", "batch_size=8", "--set", "threads=1"];

    static void AssertHandled((int Exit, string Out, string Err) result, string what, params int[] allowed)
    {
        var (exit, output, error) = result;
        Assert.False(error.Contains("Unhandled exception") || error.Contains("   at ") || error.Contains("This is a bug"), $"{what}: {error}");
        Assert.True(allowed.Contains(exit), $"{what}: exit {exit}\n{output}\n{error}");
    }

    public static TheoryData<string[], string> Rejected => new()
    {
        { ["--set", "task=names", "--set", "names=0"], "names must be at least 1" },
        { ["--set", "task=names", "--set", "names=-3"], "names must be at least 1" },
        { ["--set", "task=copy", "--set", "symbols=1"], "symbols must be at least 2" },
        { ["--set", "task=copy", "--set", "min_length=9", "--set", "max_length=3"], "max_length (3) must be at least min_length (9)" },
        { ["--set", "task=copy", "--set", "train_size=0"], "train_size, dev_size and test_size" },
        { ["--set", "task=copy", "--set", "dev_size=0"], "train_size, dev_size and test_size" },
        { ["--set", "data_path=data/cmudict/none.dict"], "data_path: no file" },
        { ["--set", "task=copy", "--set", "d_model=1048576", "--set", "d_ff=1048576"], "more than this machine's" },
        { ["--set", "threads=100000"], "threads must be at most" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void A_bad_setting_is_refused_with_its_reason_and_nothing_is_written(string[] settings, string message)
    {
        var output = Path.Combine(folder, "run");
        var result = CliTests.Run(["train", .. settings, "--out", output]);
        AssertHandled(result, string.Join(" ", settings), ResearchCli.Usage);
        Assert.Contains(message, result.Err);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), "a refused run left files");
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("word\n")]
    public void An_empty_or_malformed_dictionary_is_refused_naming_the_file(string content)
    {
        var dictionary = Path.Combine(folder, "bad.dict");
        File.WriteAllText(dictionary, content);
        var result = CliTests.Run("train", "--set", $"data_path={dictionary}", "--dry-run");
        AssertHandled(result, "dictionary " + content, ResearchCli.Usage);
        Assert.Contains("bad.dict", result.Err + result.Out);
    }

    [Fact]
    public void Out_naming_a_file_or_a_folder_that_holds_no_run_is_refused_unless_forced()
    {
        var file = Path.Combine(folder, "notes.txt");
        File.WriteAllText(file, "mine");
        AssertHandled(CliTests.Run(["train", .. Tiny, "--set", "max_steps=2", "--out", file]), "--out file", ResearchCli.Usage);
        Assert.Equal("mine", File.ReadAllText(file));

        var mine = Path.Combine(folder, "mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "steps.csv"), "my own table");
        var refused = CliTests.Run(["train", .. Tiny, "--set", "max_steps=2", "--out", mine]);
        AssertHandled(refused, "--out non-empty", ResearchCli.Usage);
        Assert.Contains("--force", refused.Err);
        Assert.Equal("my own table", File.ReadAllText(Path.Combine(mine, "steps.csv")));
        AssertHandled(CliTests.Run(["train", .. Tiny, "--set", "max_steps=2", "--set", "eval_every=2", "--out", mine, "--force"]), "--force", ResearchCli.Ok);
        Assert.True(File.Exists(Path.Combine(mine, "best.ckpt")));
    }

    [Fact]
    public void A_beam_too_wide_for_memory_is_refused_with_what_fits()
    {
        var run = Path.Combine(folder, "run");
        AssertHandled(CliTests.Run(["train", .. Tiny, "--set", "max_steps=2", "--set", "eval_every=2", "--out", run]), "train", ResearchCli.Ok);
        var result = CliTests.Run("eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--beam", "100000000");
        AssertHandled(result, "--beam 1e8", ResearchCli.Usage);
        Assert.Contains("--batch-size", result.Err);
        AssertHandled(CliTests.Run("eval", "--checkpoint", Path.Combine(folder, "none.ckpt")), "missing checkpoint", ResearchCli.Failed);
    }

    [Fact]
    public void More_threads_than_cores_is_a_warning()
    {
        var result = CliTests.Run(["train", .. Tiny, "--set", $"threads={Environment.ProcessorCount + 1}", "--dry-run"]);
        AssertHandled(result, "threads", ResearchCli.Ok);
        Assert.Contains("more than this machine's", result.Err);
    }

    /// <summary>Values at and beyond every setting's edges: each is refused with a message or runs; none crashes.</summary>
    static IEnumerable<string> Edges(string type) => type switch
    {
        "an integer" => ["0", "-1", "2147483647", "NaN", "", "x"],
        "a number" => ["0", "-1", "1e308", "NaN", "", "x"],
        "true or false" => ["", "maybe"],
        "a string" => ["", "does/not/exist"],
        _ => ["", "bogus"], // one of …
    };

    [Fact]
    public void Every_setting_at_its_edges_is_refused_or_runs_and_never_crashes()
    {
        var failures = new List<string>();
        foreach (var (key, type, _) in Settings.Describe(new TrainingSettings()))
        {
            if (key is "device") continue; // a CUDA device name is checked where it is used; covered by the device tests
            foreach (var value in Edges(type.StartsWith("one of") ? "one of" : type))
            {
                var result = CliTests.Run(["train", .. Tiny, "--set", $"{key}={value}", "--dry-run"]);
                if (result.Err.Contains("   at ") || result.Err.Contains("This is a bug") || result.Exit is not (0 or 2 or 3))
                    failures.Add($"{key}={value}: exit {result.Exit}: {result.Err.Split('\n').FirstOrDefault(l => l.Length > 0)}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
