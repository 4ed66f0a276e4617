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
        // finished tuning runs (seed 101) standing in for reported ones, whatever their own arm (cdfacc8f5732 and 52a94bcd2d6b: strided and full attention at lr 2e-3 / 1,000; fa7275aa5fe7: full attention at lr 1e-3 / 300)
        var table = ExperimentsTables.ReportedTable([new("Transformer, full attention", [runs["cdfacc8f5732"]]), new("Transformer, strided attention", [runs["fa7275aa5fe7"]]),
            new("Transformer, full attention, source_eos=true", [], SourceEos: true)]).ToString();
        var full = runs["cdfacc8f5732"].TrainingReadings();
        Assert.Contains($"| Transformer, full attention | 1 of 5 | {100 * full.DevSequenceError:F2} (n 1, no interval) | (the baseline) |", table);
        var twoSeeds = ExperimentsTables.ReportedTable([new("Transformer, full attention", [runs["cdfacc8f5732"], runs["52a94bcd2d6b"]])]).ToString();
        var (a, b) = (runs["cdfacc8f5732"].TrainingReadings().DevSequenceError, runs["52a94bcd2d6b"].TrainingReadings().DevSequenceError);
        var half = 12.706204736174694 * Math.Abs(a - b) / 2; // t(0.975, 1) · sd / √2, sd of two values = |a − b| / √2
        Assert.Contains($"| 2 of 5 | {100 * (a + b) / 2:F2} (95 % CI {100 * Math.Max(0, (a + b) / 2 - half):F2} to {100 * ((a + b) / 2 + half):F2}, n 2) |", twoSeeds); // each arm's mean with its interval, cut at 0 % error
        Assert.Contains("| Transformer, strided attention | 1 of 5 |", table);
        // best steps 9,000 (cdfacc8f5732: its sixth evaluation without a better one fell on the 12,000th step, so the patience
        // rule stopped it there, the cap notwithstanding) and 7,000 (52a94bcd2d6b, stopped by patience at 10,000): mean 8,000 ±
        // t(0.975, 1) · 1,000, cut to 0–12,000
        Assert.EndsWith("| 8,000 (95 % CI 0 to 12,000, n 2); 2 of 2 by the patience rule, 0 at the 12,000-step cap |", twoSeeds.Split('\n')[2]);
        Assert.Contains("| 9,000 (n 1, no interval); 1 of 1 by the patience rule, 0 at the 12,000-step cap |", table);
        // 28ae182caa29 (local attention, best at 11,500) reached the cap with patience to spare: still improving when it ended
        var capped = ExperimentsTables.ReportedTable([new("Transformer, full attention", [runs["28ae182caa29"]])]).ToString();
        Assert.EndsWith("| 11,500 (n 1, no interval); 0 of 1 by the patience rule, 1 at the 12,000-step cap |", capped.Split('\n')[2]);
        // one seed on both sides: its difference, and no word about it (neither a direction nor "no measurable difference")
        var oneSeed = 100 * (runs["fa7275aa5fe7"].TrainingReadings().DevSequenceError - full.DevSequenceError);
        Assert.Contains($"| {(oneSeed > 0 ? "+" : "")}{oneSeed.ToString("N2", System.Globalization.CultureInfo.InvariantCulture).Replace("-", "−")} points in the one seed finished on both sides (n 1, no interval: no verdict) |", table);
        Assert.DoesNotContain("no measurable difference", table);
        Assert.Contains("| Transformer, full attention, source_eos=true | 0 of 5 |", table);
    }

    [Fact]
    public void A_tuned_setting_at_the_edge_of_the_grid_says_so()
    {
        Assert.Equal(" (the grid's highest)", ExperimentsTables.AtGridEdge("lr", "0.002"));
        Assert.Equal(" (the grid's lowest)", ExperimentsTables.AtGridEdge("lr", "5E-4")); // the value, not its spelling
        Assert.Equal("", ExperimentsTables.AtGridEdge("lr", "0.001"));
        Assert.Equal("", ExperimentsTables.AtGridEdge("warmup", "1000")); // two values: both are edges, nothing to say
    }

    [Fact]
    public void An_end_of_source_arm_is_compared_with_full_attention_with_eos_only_even_before_that_baseline_has_a_run()
    {
        var runs = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory)).Load("train").ToDictionary(r => r.Key);
        // the baseline is named by the arm's SourceEos, not guessed from labels or runs: with full attention with EOS still
        // empty, local attention with EOS is neither its own baseline nor paired with full attention without EOS
        ExperimentsTables.ReportedArm[] arms = [new("full", [runs["cdfacc8f5732"]]), new("full, EOS", [], SourceEos: true), new("local, EOS", [runs["fa7275aa5fe7"]], SourceEos: true)];
        var local = ExperimentsTables.ReportedTable(arms).ToString().Split('\n').Single(l => l.StartsWith("| local, EOS |", StringComparison.Ordinal));
        Assert.Contains("| not measured (no seed finished on both sides) |", local);
        Assert.DoesNotContain("(the baseline)", local);
        // once it has a run, full attention with EOS is the baseline of its own rows, and says so
        var eosRow = ExperimentsTables.ReportedTable([arms[0], arms[1] with { Runs = [runs["52a94bcd2d6b"]] }]).ToString().Split('\n').Single(l => l.StartsWith("| full, EOS |", StringComparison.Ordinal));
        Assert.Contains("| (the baseline of the source_eos rows) |", eosRow);
        // the labels do not matter: the same arms with other names pair the same way
        var renamed = ExperimentsTables.ReportedTable([arms[0] with { Arm = "a" }, arms[1] with { Arm = "b, source_eos=false" }, arms[2] with { Arm = "c" }]).ToString();
        Assert.Contains("| c | 1 of 5 |", renamed);
        Assert.Contains("| not measured (no seed finished on both sides) |", renamed.Split('\n').Single(l => l.StartsWith("| c |", StringComparison.Ordinal)));
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
            string Paired() => ExperimentsTables.ReportedTable([new("Transformer, full attention", [runs["52a94bcd2d6b"]]), new("Transformer, strided attention", [runs["fa7275aa5fe7"]])]).ToString();
            string TwoSeeds() => ExperimentsTables.ReportedTable([new("Transformer, full attention", [runs["cdfacc8f5732"], runs["52a94bcd2d6b"]])]).ToString();

            Assert.Contains("| not evaluated yet: seed 101, seed 101 | (the baseline) |", TwoSeeds()); // nothing evaluated: no number, and it says which
            Evaluated("cdfacc8f5732", 0.010);
            Evaluated("52a94bcd2d6b", 0.020, step: 1); // an evaluation of another checkpoint than the run's best
            Evaluated("fa7275aa5fe7", 0.030);
            Assert.Contains("| not evaluated yet: seed 101 | (the baseline) |", TwoSeeds());
            Assert.Contains("| 3.00 (n 1, no interval) | waits for every seed's test evaluation |", Paired()); // its baseline's seed is not evaluated
            // an evaluation of the best step's checkpoint, but in bfloat16, or of last.ckpt written under best's file name: not read
            var best = (long)runs["52a94bcd2d6b"].TrainingReadings().BestStep;
            var testFile = TransformerLab.Evaluation.EvaluationSummary.GreedyFile(runs["52a94bcd2d6b"].Folder, "test");
            new TransformerLab.Evaluation.EvaluationSummary("best.ckpt", best, "test", "greedy", 1, 0, 1, 1, 1000, 0.5, 0.05, 0.5, 0.95, 0.9, 1, Precision: "bf16").Write(testFile);
            Assert.Contains("| not evaluated yet: seed 101 | (the baseline) |", TwoSeeds());
            new TransformerLab.Evaluation.EvaluationSummary("/elsewhere/last.ckpt", best, "test", "greedy", 1, 0, 1, 1, 1000, 0.5, 0.05, 0.5, 0.95, 0.9, 1).Write(testFile);
            Assert.Contains("| not evaluated yet: seed 101 | (the baseline) |", TwoSeeds());
            Evaluated("52a94bcd2d6b", 0.020);
            Assert.Contains("| 1.50 (95 % CI 0.00 to 7.85, n 2) | (the baseline) |", TwoSeeds()); // mean 1.5 %, t(0.975, 1) · 0.5 = 6.35, cut at 0 % error
            Assert.Contains("| 3.00 (n 1, no interval) | +1.00 points in the one seed finished on both sides (n 1, no interval: no verdict) |", Paired());
        }
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }

    [Fact]
    public void The_rerun_progress_counts_the_stores_tuning_and_reported_runs_and_their_test_evaluations()
    {
        var committed = new ReportSources(ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory)));
        var temp = Path.Combine(Path.GetTempPath(), "tlab-rerun-progress-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(temp, "train"));
            string Progress() => ExperimentsClaims.RerunProgress(new ReportSources(new ResultsStore(temp)));
            void Copy(RunRecord run, bool withTest)
            {
                var folder = Path.Combine(temp, "train", run.Key);
                Directory.CreateDirectory(folder);
                foreach (var file in Directory.GetFiles(run.Folder).Where(f => withTest || !Path.GetFileName(f).StartsWith("predictions-best-test", StringComparison.Ordinal)))
                    File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }
            // 7 arms × 6 settings tuned; 9 arms (7, and full and local attention with EOS) × 5 seeds reported
            Assert.Equal("under way: tuning 0 of 42 runs finished (setting chosen for no arm yet); reported comparison 0 of 45 runs finished (none yet); "
                + "test evaluated for 0 of the 0 reported runs that did not diverge", Progress());
            foreach (var run in ExperimentsTables.ReverseTuningChoices(committed)[0].Runs) Copy(run, withTest: false); // full attention's six finished settings
            var reported = ExperimentsTables.ReverseReportedRuns(committed)[0].Runs.OrderBy(r => r.Seed).ToList();
            Copy(reported[0], withTest: true);
            Copy(reported[1], withTest: false);
            Assert.Equal("under way: tuning 6 of 42 runs finished (setting chosen for Transformer, full attention); reported comparison 2 of 45 runs finished "
                + "(Transformer, full attention: 2 of 5); test evaluated for 1 of the 2 reported runs that did not diverge", Progress());
        }
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }

    [Fact]
    public void A_rerun_claim_waits_for_five_seeds_and_their_test_evaluations_then_pairs_steps_and_test_error_by_seed()
    {
        var store = ResultsStore.Default(Runtime.Workspace.Root(AppContext.BaseDirectory));
        var committed = store.Load("train").ToDictionary(r => r.Key);
        var temp = Path.Combine(Path.GetTempPath(), "tlab-rerun-claim-" + Guid.NewGuid().ToString("N"));
        try
        {
            // seed-by-seed copies of finished tuning runs standing in for reported ones (the committed store is never written),
            // by the first step at which each reached 95 % dev exact match
            var at = new Dictionary<int, string> { [3500] = "7fac2fea5889", [4000] = "fa7275aa5fe7", [4500] = "c9d69c998318", [5000] = "3107c9dda76b", [0] = "81145915f62b" /* never */ };
            RunRecord Copy(int reached, int seed)
            {
                var key = at[reached];
                var folder = Path.Combine(temp, $"{key}-{seed}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(folder);
                foreach (var file in Directory.GetFiles(committed[key].Folder)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
                return committed[key] with { Folder = folder, Seed = seed };
            }
            void Evaluated(RunRecord run, double error) =>
                new TransformerLab.Evaluation.EvaluationSummary("best.ckpt", (long)run.TrainingReadings().BestStep, "test", "greedy", 1, 0, 1, 1, 1000, error, error / 10, 1 - error, 1 - error / 10, 0.99, 1)
                    .Write(TransformerLab.Evaluation.EvaluationSummary.GreedyFile(run.Folder, "test"));
            int[] controlAt = [4000, 4000, 4000, 5000, 4000], treatedAt = [3500, 4000, 4500, 3500, 0];
            var control = controlAt.Select((step, i) => Copy(step, i + 1)).ToList();
            var treated = treatedAt.Select((step, i) => Copy(step, i + 1)).ToList();
            string Claim(IReadOnlyList<RunRecord> t, IReadOnlyList<RunRecord> c) => ExperimentsClaims.Rerun(t, c, "strided attention", "full attention");

            Assert.Equal("strided attention: waits for 5 finished seeds on both sides (strided attention 5, full attention 4 of 5 so far)", Claim(treated, control.Take(4).ToList()));
            foreach (var run in control) Evaluated(run, 0.01);
            double[] errors = [0.02, 0.03, 0.02, 0.03];
            for (var i = 0; i < 4; i++) Evaluated(treated[i], errors[i]);
            Assert.Equal("strided attention: waits for the test evaluation of 1 finished run(s) at their best dev checkpoint", Claim(treated, control));
            Evaluated(treated[4], 0.02);
            // steps, seeds 1–4 (seed 5's strided run never reached 95 %): −500, 0, +500, −1,500 — mean −375, sd 853.9, t(0.975, 3) = 3.1824: −1,734 to 984
            // test: 1, 2, 1, 2, 1 points — mean 1.4, sd √0.3, t(0.975, 4) = 2.7764: 0.72 to 2.08
            Assert.Equal("strided attention: reached 95 % dev exact match in 4 of 5 seeds (full attention: 5 of 5); steps to it, paired over the seeds where both reached it"
                + " (dev evaluated every 500 steps): no measurable difference (95 % CI −1,734 to 984, n 4); test sequence error at the best dev checkpoint: higher than full attention by 1.40 points"
                + " (95 % CI 0.72 to 2.08, n 5; 5 of 5 seeds)", Claim(treated, control));

            // a diverged seed is named and left out of both comparisons: steps over seeds 1, 3, 4 (−500, +500, −1,500: t(0.975, 2) = 4.3027, −2,984 to 1,984);
            // test over 1, 3, 4, 5 (1, 1, 2, 1: mean 1.25, sd 0.5, t(0.975, 3): 0.45 to 2.05)
            List<RunRecord> withDiverged = [treated[0], treated[1] with { State = RunState.Diverged }, .. treated.Skip(2)];
            Assert.Equal("strided attention: reached 95 % dev exact match in 3 of 5 seeds (full attention: 5 of 5); steps to it, paired over the seeds where both reached it"
                + " (dev evaluated every 500 steps): no measurable difference (95 % CI −2,984 to 1,984, n 3); test sequence error at the best dev checkpoint: higher than full attention by 1.25 points"
                + " (95 % CI 0.45 to 2.05, n 4; 4 of 4 seeds); strided attention diverged in seed 2, left out of both comparisons", Claim(withDiverged, control));

            // an arm that never reached the target: no steps to compare, and the counts say which arm missed it
            var never = Enumerable.Range(1, 5).Select(seed => Copy(0, seed)).ToList();
            foreach (var run in never) Evaluated(run, 0.005);
            Assert.Equal("local attention: reached 95 % dev exact match in 0 of 5 seeds (full attention: 5 of 5); steps to it, paired over the seeds where both reached it"
                + " (dev evaluated every 500 steps): no seed in which both reached it; test sequence error at the best dev checkpoint: −0.50 points in each of the 5 seeds"
                + " (no spread, so no t interval; two-sided sign test p = 0.0625: no verdict)", ExperimentsClaims.Rerun(never, control, "local attention", "full attention")); // 0.5 % against 1 % in every seed: no interval to read
        }
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }
}
