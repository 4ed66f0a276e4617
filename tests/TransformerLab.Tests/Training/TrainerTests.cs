using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Training;

/// <summary>End-to-end runs of the training loop on tiny synthetic tasks.</summary>
public sealed class TrainerTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-trainer-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    static TrainingSettings Tiny(TaskKind task = TaskKind.Copy) => TinySettings.For(task);

    static TaskData Data(TrainingSettings s) => s.LoadData(Workspace.Root(AppContext.BaseDirectory));

    static Dictionary<string, Tensor> FinalParameters(string checkpoint)
    {
        using var model = Checkpoint.Load(checkpoint).RestoreModel(torch.CPU);
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
    }

    /// <summary>The checkpoint-selection rule on ties: the earliest evaluation with the lowest dev sequence error is best.</summary>
    [Fact]
    public void On_a_tie_the_earlier_evaluation_stays_best()
    {
        var s = Tiny().WithOptimiser(o => o with { Lr = 1e-9, Warmup = 0 }).WithLoop(l => l with { MaxSteps = 30, EvalEvery = 10, EvalItems = 8 }); // learns nothing: every evaluation scores alike
        var data = Data(s);
        var summary = new Trainer(s, data, Path.Combine(folder, "ties")).Run();
        var dev = Runtime.Csv.Read(Path.Combine(folder, "ties", "dev.csv"));
        var lowest = dev.Min(r => r["dev_sequence_error"]);
        var first = dev.First(r => r["dev_sequence_error"] == lowest)["step"];
        Assert.Equal(first, summary.BestStep);
        Assert.Equal(first, summary.Best!.Step);
    }

    /// <summary>
    /// The process can end after the trainer wrote an early-stopped run's summary but before the store marked it done; the
    /// store then resumes it from the checkpoint of the evaluation that used up the patience. It must stop there, as it did,
    /// not train one more interval and look again (a seventh chance at a better dev error for that one seed).
    /// </summary>
    [Fact]
    public void A_run_resumed_from_the_evaluation_that_used_up_its_patience_stops_there()
    {
        var s = Tiny().WithOptimiser(o => o with { Lr = 1e-9, Warmup = 0 }).WithLoop(l => l with { MaxSteps = 100, EvalEvery = 10, EvalItems = 8, Patience = 2 }); // learns nothing
        var data = Data(s);
        var run = Path.Combine(folder, "patience");
        var first = new Trainer(s, data, run).Run();
        Assert.Equal(RunStatus.EarlyStopped, first.Status);
        Assert.Equal(30, first.Steps); // best at 10, then two evaluations without a better one
        var dev = File.ReadAllLines(Path.Combine(run, "dev.csv"));
        var again = new Trainer(s, data, run).Run(resume: true);
        Assert.Equal((RunStatus.EarlyStopped, 30L, first.BestStep, first.Reason), (again.Status, again.Steps, again.BestStep, again.Reason));
        Assert.Equal(dev, File.ReadAllLines(Path.Combine(run, "dev.csv")));
    }

    [Fact]
    public void A_tiny_model_learns_the_copy_task_to_100_percent()
    {
        var s = TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 64, Heads = 4, DFF = 128, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0.0 })
            .WithTask(t => t with { Symbols = 8, MinLength = 3, MaxLength = 6, TrainSize = 3000, DevSize = 100, TestSize = 100 })
            .WithLoop(l => l with { BatchSize = 64, MaxSteps = 1200, EvalEvery = 400 })
            .WithOptimiser(o => o with { Warmup = 100, Lr = 3e-3 }) with
        {
            Threads = 1, // fixed: the result must not depend on which test set the process's thread count last
        };
        var data = Data(s);
        var summary = new Trainer(s, data, folder).Run();
        Assert.Equal(RunStatus.Done, summary.Status);
        using var model = Checkpoint.Load(Path.Combine(folder, "best.ckpt")).RestoreModel(torch.CPU);
        var (metrics, _) = Evaluator.Decode(model, EvaluationItem.Group(data.Test), data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU);
        Assert.Equal(1.0, metrics.ExactMatch);
    }

    [Fact]
    public void An_interrupted_then_resumed_run_equals_an_uninterrupted_one()
    {
        var s = Tiny();
        var data = Data(s);
        var whole = Path.Combine(folder, "whole");
        new Trainer(s, data, whole).Run();

        var split = Path.Combine(folder, "split");
        using var cancel = new CancellationTokenSource();
        var first = new Trainer(s, data, split, new TrainerHooks { OnLog = r => { if (r.Step == 25) cancel.Cancel(); } }).Run(cancel: cancel.Token);
        Assert.Equal(RunStatus.Interrupted, first.Status);
        Assert.Equal(25, first.Steps);
        long? resumedAt = null;
        var second = new Trainer(s, data, split, new TrainerHooks { OnResume = step => resumedAt = step }).Run(resume: true);
        Assert.Equal(RunStatus.Done, second.Status);
        Assert.Equal(25, resumedAt); // what the run's log.txt says it continued from

        var a = FinalParameters(Path.Combine(whole, "last.ckpt"));
        var b = FinalParameters(Path.Combine(split, "last.ckpt"));
        Assert.Equal(a.Keys, b.Keys);
        foreach (var name in a.Keys) Assert.True(Reference.Identical(a[name], b[name]), $"{name} differs after resuming");
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "dev.csv")), File.ReadAllLines(Path.Combine(split, "dev.csv")));
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "steps.csv")).Select(l => string.Join(",", l.Split(',')[..5])),
                     File.ReadAllLines(Path.Combine(split, "steps.csv")).Select(l => string.Join(",", l.Split(',')[..5]))); // minus timings
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_a_different_one()
    {
        var s = Tiny().WithLoop(l => l with { MaxSteps = 10, EvalEvery = 10 });
        var data = Data(s);
        new Trainer(s, data, Path.Combine(folder, "a")).Run();
        new Trainer(s, data, Path.Combine(folder, "b")).Run();
        new Trainer(s with { Seed = 2 }, data, Path.Combine(folder, "c")).Run();
        string Losses(string run) => string.Join(";", File.ReadAllLines(Path.Combine(folder, run, "steps.csv")).Select(l => l.Split(',')[2]));
        Assert.Equal(Losses("a"), Losses("b"));
        Assert.NotEqual(Losses("a"), Losses("c"));
    }

    [Fact]
    public void A_corrupt_checkpoint_is_rejected_and_nothing_is_overwritten()
    {
        var s = Tiny().WithLoop(l => l with { MaxSteps = 20 });
        var data = Data(s);
        new Trainer(s, data, folder).Run();
        var last = Path.Combine(folder, "last.ckpt");
        var bytes = File.ReadAllBytes(last);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(last, bytes);
        var summaryBefore = File.ReadAllText(Path.Combine(folder, "summary.json"));

        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(last));
        Assert.Contains("corrupt", e.Message);
        Assert.Throws<CheckpointException>(() => new Trainer(s.WithLoop(l => l with { MaxSteps = 40 }).WithOptimiser(o => o with { Schedule = LearningRateScheduleKind.Constant }), data, folder).Run(resume: true));
        Assert.Equal(bytes, File.ReadAllBytes(last));
        Assert.Equal(summaryBefore, File.ReadAllText(Path.Combine(folder, "summary.json")));

        // A block length that does not fit the file, under a hash that matches: still the clean error, never an overflow.
        var valid = File.ReadAllBytes(Path.Combine(folder, "best.ckpt"));
        var body = valid[..^32];
        var lengthAt = FirstBlockLengthOffset(body);
        BitConverter.GetBytes(1L << 40).CopyTo(body, lengthAt);
        var forged = Path.Combine(folder, "forged.ckpt");
        File.WriteAllBytes(forged, [.. body, .. System.Security.Cryptography.SHA256.HashData(body)]);
        Assert.Contains("a block claims", Assert.Throws<CheckpointException>(() => Checkpoint.Load(forged)).Message);

        File.WriteAllText(Path.Combine(folder, "not-a.ckpt"), "hello");
        Assert.Contains("not a Transformer Lab checkpoint", Assert.Throws<CheckpointException>(() => Checkpoint.Load(Path.Combine(folder, "not-a.ckpt"))).Message);
    }

    /// <summary>Where the first block's int64 length sits: after the magic, the format version and the header string.</summary>
    static int FirstBlockLengthOffset(byte[] body)
    {
        using var r = new BinaryReader(new MemoryStream(body), System.Text.Encoding.UTF8);
        r.ReadBytes(8);
        r.ReadInt32();
        r.ReadString();
        return (int)r.BaseStream.Position;
    }

    [Fact]
    public void Resuming_with_other_settings_names_what_differs()
    {
        var s = Tiny().WithLoop(l => l with { MaxSteps = 10, EvalEvery = 10 });
        var data = Data(s);
        new Trainer(s, data, folder).Run();
        var e = Assert.Throws<CheckpointException>(() => new Trainer(s.WithTransformer(m => m with { DModel = 64 }), data, folder).Run(resume: true));
        Assert.Contains("d_model (checkpoint 32, now 64)", e.Message);
        // the cosine schedule's shape depends on max_steps, so it cannot change either
        Assert.Contains("max_steps", Assert.Throws<CheckpointException>(() => new Trainer(s.WithLoop(l => l with { MaxSteps = 20 }), data, folder).Run(resume: true)).Message);
    }

    [Fact]
    public void Divergence_is_recorded_as_a_result_not_a_crash()
    {
        var s = Tiny().WithOptimiser(o => o with { Lr = 1e6, Schedule = LearningRateScheduleKind.Constant, Warmup = 0, Clip = 0 }).WithLoop(l => l with { MaxSteps = 200 });
        var summary = new Trainer(s, Data(s), folder).Run();
        Assert.Equal(RunStatus.Diverged, summary.Status);
        Assert.Contains("step", summary.Reason);
        Assert.Contains("\"status\": \"diverged\"", File.ReadAllText(Path.Combine(folder, "summary.json")));
    }

    [Theory]
    [InlineData(0.061, 0.011, false)] // LSTM tuning run 9eac830f3465 at 0.2 % dev error: a spike near zero, 5.5× its lowest
    [InlineData(1.000, 0.011, false)] // 90× its lowest, but not half of the way back to chance (3.4)
    [InlineData(2.000, 0.011, true)]  // more than half of the way back, and 4×
    [InlineData(3.000, 0.500, true)]  // a Post-LN-like blow-up towards chance
    [InlineData(1.900, 0.500, false)] // below 4× its lowest
    [InlineData(9.000, 2.000, true)]  // never learned below half of chance: the factor alone decides, as before
    public void Divergence_needs_4x_the_lowest_loss_and_half_of_the_way_back_to_chance(double smoothed, double lowest, bool diverged) =>
        Assert.Equal(diverged, new LoopSettings().Diverged(smoothed, lowest, chance: Math.Log(30)));

    [Fact]
    public void The_step_hook_reads_per_layer_gradient_norms_before_the_update()
    {
        var s = Tiny().WithLoop(l => l with { MaxSteps = 3, EvalEvery = 3 });
        var seen = new List<IReadOnlyList<(string Layer, double Norm)>>();
        new Trainer(s, Data(s), folder, new TrainerHooks { AfterBackward = c => seen.Add(c.LayerGradientNorms()) }).Run();
        Assert.Equal(3, seen.Count);
        Assert.Contains(seen[0], x => x.Layer == "encoder.layers.0" && x.Norm > 0);
        Assert.Contains(seen[0], x => x.Layer == "decoder.layers.0" && x.Norm > 0);
    }

    [Fact]
    public void Metrics_go_to_csv_and_tensorboard_files()
    {
        var s = Tiny().WithLoop(l => l with { MaxSteps = 10, EvalEvery = 5, LogEvery = 5 });
        new Trainer(s, Data(s), folder).Run();
        Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "steps.csv")).Length); // header + steps 5, 10
        Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "dev.csv")).Length);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "tensorboard"), "events.out.tfevents.*"));
        Assert.Equal(s, Settings.FromJson(File.ReadAllText(Path.Combine(folder, "settings.json")), new TrainingSettings()));
    }
}
