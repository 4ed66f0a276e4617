using System.Text.Json;
using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Cli;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Foundation;
using TransformerLab.Tests.Training;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Evaluation;

/// <summary>
/// <c>research eval --split dev</c> on a run's best checkpoint reproduces the run's own best dev readings exactly, for every
/// kind of model: the checkpoint carries all that decoding needs (a copying model's extended vocabulary included), so no
/// caller can forget a part of it.
/// </summary>
public sealed class EvalMatchesTrainingTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-eval-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    public static TheoryData<string> Kinds => new()
    {
        "post-ln", "pre-ln", "copy", "guided-attention", "local", "strided", "linear", "linformer", "nat", "nat-mask-predict", "rnn", "cnn", "bf16", "source-eos",
    };

    static TrainingSettings Settings(string kind)
    {
        var tiny = TinySettings.For(TaskKind.Reverse).WithLoop(l => l with { MaxSteps = 60, EvalEvery = 30, EvalItems = 0 });
        return kind switch
        {
            "post-ln" => tiny.WithTransformer(m => m with { Norm = NormPlacement.Post }),
            "pre-ln" => tiny.WithTransformer(m => m with { Norm = NormPlacement.Pre }),
            "copy" => TinySettings.For(TaskKind.Names).WithModel(m => m with { Copy = true }).WithLabelSmoothing(0).WithTask(t => t with { Names = 30 }).WithLoop(l => l with { MaxSteps = 60, EvalEvery = 30, EvalItems = 0 }),
            "guided-attention" => tiny.WithGuidedAttention(g => g with { Weight = 1 }),
            "local" => tiny.WithTransformer(m => m with { Attention = AttentionKind.Local, AttentionWindow = 2 }),
            "strided" => tiny.WithTransformer(m => m with { Attention = AttentionKind.Strided, AttentionStride = 2 }),
            "linear" => tiny.WithTransformer(m => m with { Attention = AttentionKind.Linear }),
            "linformer" => tiny.WithTransformer(m => m with { Attention = AttentionKind.Linformer, AttentionRank = 4 }),
            "nat" => tiny.WithArchitecture(Architecture.NonAutoregressive).WithNat(n => n with { MaxLength = 8 }),
            "nat-mask-predict" => tiny.WithArchitecture(Architecture.NonAutoregressive).WithNat(n => n with { MaxLength = 8 }).WithDecoderInput(d => d with { NatMasking = NatMasking.Uniform }),
            "rnn" => tiny.WithArchitecture(Architecture.Rnn),
            "cnn" => tiny.WithArchitecture(Architecture.Cnn),
            "bf16" => tiny with { Precision = Precision.Bf16 },
            "source-eos" => tiny.WithTask(t => t with { SourceEos = true }), // the end-of-source control of issue 36: eval must read its sources as trained
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Eval_on_dev_reproduces_the_runs_best_dev_readings(string kind)
    {
        var settings = Settings(kind);
        if (MixedPrecision.Unsupported(settings.Precision, torch.CPU) is not null) return; // bf16 needs a CPU with native bfloat16
        var run = Path.Combine(folder, kind);
        var data = settings.LoadData(Workspace.Root(AppContext.BaseDirectory));
        var summary = new Trainer(settings, data, run).Run();
        var best = summary.Best ?? throw new InvalidOperationException("no dev evaluation");

        var output = Path.Combine(run, "eval-dev.tsv");
        string[] args = ["eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--split", "dev", "--out", output];
        if (settings.Precision == Precision.Bf16) args = [.. args, "--precision", "bf16"];
        var (exit, stdout, stderr) = CliTests.Run(args);
        Assert.True(exit == ResearchCli.Ok, stdout + stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(output, ".json")));
        Assert.Equal(best.SequenceError, json.RootElement.GetProperty("sequence_error").GetDouble());
        Assert.Equal(best.SymbolError, json.RootElement.GetProperty("symbol_error").GetDouble());
        Assert.Equal(best.ExactMatch, json.RootElement.GetProperty("exact_match").GetDouble());
        Assert.Equal(EvaluationItem.Group(data.Dev).Count, json.RootElement.GetProperty("items").GetInt32());
        Assert.Equal(settings.Precision == Precision.Bf16 ? "bf16" : "fp32", json.RootElement.GetProperty("precision").GetString());
        Assert.Equal(settings.Task, Checkpoint.Load(Path.Combine(run, "best.ckpt")).Settings.Task); // the data's settings (source_eos included) travel with the checkpoint
    }

    /// <summary>
    /// A bfloat16 evaluation of a checkpoint writes its own files beside the float32 one's, which the reports read as the
    /// run's test figure (<c>ExperimentsTables.TestOf</c>): it can never take that file's place.
    /// </summary>
    [Fact]
    public void A_bf16_evaluation_never_replaces_the_float32_one()
    {
        if (MixedPrecision.Unsupported(Precision.Bf16, torch.CPU) is not null) return; // needs a CPU with native bfloat16
        var settings = Settings("post-ln");
        var run = Path.Combine(folder, "precisions");
        new Trainer(settings, settings.LoadData(Workspace.Root(AppContext.BaseDirectory)), run).Run();
        var checkpoint = Path.Combine(run, "best.ckpt");
        Assert.Equal(ResearchCli.Ok, CliTests.Run("eval", "--checkpoint", checkpoint, "--split", "dev").Exit);
        var fp32 = TransformerLab.Evaluation.EvaluationSummary.GreedyFile(run, "dev");
        var before = File.ReadAllBytes(fp32);
        Assert.Equal(ResearchCli.Ok, CliTests.Run("eval", "--checkpoint", checkpoint, "--split", "dev", "--precision", "bf16").Exit);
        Assert.Equal(before, File.ReadAllBytes(fp32));
        Assert.Equal("bf16", TransformerLab.Evaluation.EvaluationSummary.Read(Path.Combine(run, "predictions-best-dev-greedy-bf16.json"))!.Precision);
        Assert.Equal("fp32", TransformerLab.Evaluation.EvaluationSummary.Read(fp32)!.Precision);
    }

    [Fact]
    public void A_copying_checkpoint_decodes_names_no_vocabulary_holds()
    {
        var settings = Settings("copy").WithLoop(l => l with { MaxSteps = 300, EvalEvery = 300 }).WithOptimiser(o => o with { Lr = 5e-3 });
        var run = Path.Combine(folder, "copy-long");
        var data = settings.LoadData(Workspace.Root(AppContext.BaseDirectory));
        new Trainer(settings, data, run).Run();
        var output = Path.Combine(run, "eval-dev.tsv");
        var (exit, stdout, stderr) = CliTests.Run("eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--split", "dev", "--out", output);
        Assert.True(exit == ResearchCli.Ok, stdout + stderr);
        // some output holds a name that only dev has: it came through the copy vocabulary, which eval must take from the model
        var unseen = data.Dev.SelectMany(e => e.Source).Where(NamesTask.IsName).Where(n => data.SourceVocabulary.Id(n) == Vocabulary.Unk).ToHashSet();
        Assert.NotEmpty(unseen);
        var outputs = File.ReadAllLines(output).Skip(1).Select(l => l.Split('\t')).Where(c => c.Length > 1).SelectMany(c => c[1].Split(' ')).ToHashSet();
        Assert.True(outputs.Overlaps(unseen), "no unseen name was copied into any output");
    }
}
