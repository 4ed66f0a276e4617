using TransformerLab.Experiments;
using TransformerLab.Reporting;
using Xunit;
namespace TransformerLab.Tests.Reporting;
/// <summary>The tuning table's typed sweeps plan exactly the runs of experiments.md's three tuning commands (the keys the worktree's sweeps wrote).</summary>
public sealed class ReverseTuningSweepsTests
{
    [Fact]
    public void The_typed_tuning_sweeps_plan_the_command_lines_runs()
    {
        string[] b = ["attention_window=8","attention_stride=8","attention_rank=8","task=reverse","min_length=16","max_length=48","d_model=128","heads=4","d_ff=256","encoder_layers=2","decoder_layers=2","batch_size=64","label_smoothing=0","eval_items=500","threads=1","eval_every=500","max_steps=12000","patience=6"];
        KeyValuePair<string,string> A(string s) => KeyValuePair.Create(s.Split('=')[0], s.Split('=')[1]);
        var grid = new[] { Sweep.GridAxis("lr=0.0005,0.001,0.002"), Sweep.GridAxis("warmup=300,1000") };
        var exp = ExperimentRegistry.Get("train");
        var rnn = Sweep.Plan(exp, [.. b.Select(A), A("architecture=rnn"), A("d_model=132")], grid, 1, 101).Select(r => r.Key).Order().ToList();
        var cnn = Sweep.Plan(exp, [.. b.Select(A), A("architecture=cnn"), A("encoder_layers=4")], grid, 1, 101).Select(r => r.Key).Order().ToList();
        var att = Sweep.Plan(exp, [.. b.Select(A)], [Sweep.GridAxis("attention=full,local,strided,linear,linformer"), .. grid], 1, 101).Select(r => r.Key).Order().ToList();
        var t = ExperimentsTables.ReverseTuningSweeps;
        Assert.Equal(att, t[0].Sweep.Plan().Select(r => r.Key).Order().ToList());
        Assert.Equal(rnn, t[1].Sweep.Plan().Select(r => r.Key).Order().ToList());
        Assert.Equal(cnn, t[2].Sweep.Plan().Select(r => r.Key).Order().ToList());
        Assert.Equal(["LSTM + attention"], t[1].Arms); Assert.Equal(["convolutional"], t[2].Arms);
    }

    [Fact]
    public void The_reported_comparison_runs_the_tuned_settings_exactly_with_seeds_1_to_5()
    {
        var store = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory));
        var tuned = store.Load("train").Single(r => r.Key == "cdfacc8f5732"); // a finished tuning run (seed 101)
        var reported = ExperimentsTables.ReportedSweep(tuned, sourceEos: false);
        Assert.Equal([1, 2, 3, 4, 5], reported.Plan().Select(r => r.Seed));
        // the same configuration: at the tuning seed it is the tuned run itself
        Assert.Equal(tuned.Key, new RunSpec(ExperimentRegistry.Get("train"), reported.Plan()[0].Config, tuned.Seed).Key);
        Assert.DoesNotContain(reported.Set, kv => kv.Key == "seed");
        var control = ExperimentsTables.ReportedSweep(tuned, sourceEos: true);
        Assert.Contains(KeyValuePair.Create("source_eos", "true"), control.Set);
        Assert.Empty(control.Plan().Select(r => r.Key).Intersect(reported.Plan().Select(r => r.Key)));
    }

    [Fact]
    public void The_reported_table_reads_each_arms_runs_and_pairs_them_with_full_attention_by_seed()
    {
        var runs = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory)).Load("train").ToDictionary(r => r.Key);
        // two finished tuning runs (seed 101) standing in for reported ones: full attention lr 1e-3 / 300, strided lr 2e-3 / 300
        var table = ExperimentsTables.ReportedTable([("Transformer, full attention", [runs["cdfacc8f5732"]]), ("Transformer, strided attention", [runs["fa7275aa5fe7"]]),
            ("Transformer, full attention, source_eos=true", [])]).ToString();
        var full = runs["cdfacc8f5732"].TrainingReadings();
        Assert.Contains($"| Transformer, full attention | 1 of 5 | {100 * full.DevSequenceError:F2} (n 1, no interval) | (the baseline) |", table);
        var twoSeeds = ExperimentsTables.ReportedTable([("Transformer, full attention", [runs["cdfacc8f5732"], runs["52a94bcd2d6b"]])]).ToString();
        var (a, b) = (runs["cdfacc8f5732"].TrainingReadings().DevSequenceError, runs["52a94bcd2d6b"].TrainingReadings().DevSequenceError);
        var half = 12.706204736174694 * Math.Abs(a - b) / 2; // t(0.975, 1) · sd / √2, sd of two values = |a − b| / √2
        Assert.Contains($"| 2 of 5 | {100 * (a + b) / 2:F2} (95 % CI {100 * ((a + b) / 2 - half):F2} to {100 * ((a + b) / 2 + half):F2}, n 2) |".Replace("-", "−"), twoSeeds); // each arm's mean with its interval
        Assert.Contains("| Transformer, strided attention | 1 of 5 |", table);
        Assert.Contains("no measurable difference (n 1, no interval)", table); // one seed: no direction may be claimed
        Assert.Contains("| Transformer, full attention, source_eos=true | 0 of 5 |", table);
    }
    [Fact]
    public void The_reported_tables_test_columns_read_each_runs_evaluation_of_its_best_checkpoint_and_nothing_else()
    {
        var store = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory));
        var temp = Path.Combine(Path.GetTempPath(), "tlab-reported-" + Guid.NewGuid().ToString("N"));
        try
        {
            // copies of three finished tuning runs (the committed store is never written), standing in for reported ones
            foreach (var key in new[] { "cdfacc8f5732", "52a94bcd2d6b", "fa7275aa5fe7" })
                foreach (var file in Directory.GetFiles(Path.Combine(store.Root, "train", key)))
                {
                    Directory.CreateDirectory(Path.Combine(temp, "train", key));
                    File.Copy(file, Path.Combine(temp, "train", key, Path.GetFileName(file)));
                }
            var runs = new ResultsStore(temp).Load("train").ToDictionary(r => r.Key);
            void Evaluated(string key, double error, long? step = null) =>
                new TransformerLab.Evaluation.EvaluationSummary("best.ckpt", step ?? (long)runs[key].TrainingReadings().BestStep, "test", "greedy", 1, 0, 1, 1, 1000, error, error / 10, 1 - error, 1 - error / 10, 0.99, 1)
                    .Write(TransformerLab.Evaluation.EvaluationSummary.GreedyFile(runs[key].Folder, "test"));
            // (all three are seed 101, so the two full-attention runs stand for two seeds only where nothing is paired)
            string Paired() => ExperimentsTables.ReportedTable([("Transformer, full attention", [runs["52a94bcd2d6b"]]), ("Transformer, strided attention", [runs["fa7275aa5fe7"]])]).ToString();
            string TwoSeeds() => ExperimentsTables.ReportedTable([("Transformer, full attention", [runs["cdfacc8f5732"], runs["52a94bcd2d6b"]])]).ToString();

            Assert.Contains("| not evaluated yet: seed 101, seed 101 | (the baseline) |", TwoSeeds()); // nothing evaluated: no number, and it says which
            Evaluated("cdfacc8f5732", 0.010);
            Evaluated("52a94bcd2d6b", 0.020, step: 1); // an evaluation of another checkpoint than the run's best
            Evaluated("fa7275aa5fe7", 0.030);
            Assert.Contains("| not evaluated yet: seed 101 | (the baseline) |", TwoSeeds());
            Assert.Contains("| 3.00 (n 1, no interval) | waits for every seed's test evaluation |", Paired()); // its baseline's seed is not evaluated
            Evaluated("52a94bcd2d6b", 0.020);
            Assert.Contains("| 1.50 (95 % CI −4.85 to 7.85, n 2) | (the baseline) |", TwoSeeds()); // mean 1.5 %, t(0.975, 1) · 0.5 = 6.35
            Assert.Contains("| 3.00 (n 1, no interval) | no measurable difference (n 1, no interval) |", Paired());
        }
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }
}
