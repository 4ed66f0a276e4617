using System.Text.Json.Nodes;
using TransformerLab.Attention;
using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Experiments;

/// <summary>
/// One meaning per setting name (issue 37): attention_window is local attention's window, attention_stride the strided
/// pattern's stride, attention_rank Linformer's rank. Runs and checkpoints written when attention_window meant all three
/// read as they were meant, keep their keys, and the old spelling cannot silently mean something else on the command line.
/// </summary>
public sealed class AttentionParameterKeysTests
{
    static readonly Experiment Train = ExperimentRegistry.Get("train");

    static TrainingSettings Read(string json) => Settings.FromJson(json, new TrainingSettings());

    static string Key(TrainingSettings settings, int seed = 1) => new RunSpec(Train, settings, seed).Key;

    [Theory]
    [InlineData("strided")]
    [InlineData("linformer")]
    public void A_file_written_when_attention_window_meant_every_parameter_reads_as_the_kernels_own(string kind)
    {
        var old = Read($$"""{"attention": "{{kind}}", "attention_window": 8}""");
        var model = old.Model.Transformer;
        Assert.Equal(8, kind == "strided" ? model.AttentionStride : model.AttentionRank);
        Assert.Equal(TransformerConfig.DefaultAttentionParameter, model.AttentionWindow);
        Assert.Empty(old.Problems());
        // and as the new code writes it: both keys are there, each read as written
        var written = Read(Settings.ToJson(old));
        Assert.Equal(old, written);
    }

    [Fact]
    public void A_file_with_the_new_keys_is_read_as_written()
    {
        var s = Read("""{"attention": "strided", "attention_window": 4, "attention_stride": 8}""");
        Assert.Equal((4L, 8L), (s.Model.Transformer.AttentionWindow, s.Model.Transformer.AttentionStride));
    }

    [Theory]
    [InlineData(AttentionKind.Strided)]
    [InlineData(AttentionKind.Linformer)]
    public void A_run_keeps_the_key_it_had_when_attention_window_was_the_stride_and_the_rank(AttentionKind kind)
    {
        var old = Read($$"""{"attention": "{{kind.ToString().ToLowerInvariant()}}", "attention_window": 8}""");
        var current = new TrainingSettings().WithTransformer(m => m with
        {
            Attention = kind, AttentionStride = kind == AttentionKind.Strided ? 8 : 16, AttentionRank = kind == AttentionKind.Linformer ? 8 : 16,
        });
        Assert.Equal(Key(old), Key(current));
        // the parameters a kernel does not read change nothing it computes, and nothing in its key
        Assert.Equal(Key(current), Key(current.WithTransformer(m => m with { AttentionWindow = 8 })));
        // its own parameter does
        Assert.NotEqual(Key(current), Key(current.WithTransformer(m => kind == AttentionKind.Strided ? m with { AttentionStride = 4 } : m with { AttentionRank = 4 })));
    }

    [Fact]
    public void Every_committed_strided_and_linformer_run_keeps_its_folder_name_as_its_key()
    {
        var root = Path.Combine(Workspace.Root(AppContext.BaseDirectory), "data", "runs", "train");
        var checkedRuns = 0;
        foreach (var file in Directory.GetFiles(root, "config.json", SearchOption.AllDirectories))
        {
            var config = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            if ((string?)config["config"]?["attention"] is not ("strided" or "linformer")) continue;
            var settings = Settings.With(new TrainingSettings(), Settings.Assignments(config["config"]!.AsObject()));
            Assert.Equal(Path.GetFileName(Path.GetDirectoryName(file)), Key(settings, (int)config["seed"]!));
            checkedRuns++;
        }
        Assert.True(checkedRuns >= 6, $"only {checkedRuns} strided or Linformer runs are committed");
    }

    [Theory]
    [InlineData("strided", "attention_stride")]
    [InlineData("linformer", "attention_rank")]
    public void The_old_spelling_on_the_command_line_is_refused_with_the_key_to_use(string kind, string own)
    {
        var s = Settings.With(new TrainingSettings(), [new("attention", kind), new("attention_window", "8")]);
        var problem = Assert.Single(s.Problems(), p => p.Contains("attention_window"));
        Assert.Contains($"set {own}=8", problem);
        Assert.Empty(Settings.With(s, [new(own, "8")]).Problems()); // both given: the window is simply not read
    }

    [Fact]
    public void Each_kernel_is_built_with_its_own_parameter()
    {
        var config = new TransformerConfig { SourceVocabulary = 10, TargetVocabulary = 10, MaxLength = 64, AttentionWindow = 2, AttentionStride = 3, AttentionRank = 5, Attention = AttentionKind.Linformer };
        using var model = new EncoderDecoder(config);
        var projection = model.named_parameters().First(p => p.name.Contains("kernel")).parameter;
        Assert.Contains(5L, projection.shape); // Linformer projects to rank k = attention_rank
    }
}
