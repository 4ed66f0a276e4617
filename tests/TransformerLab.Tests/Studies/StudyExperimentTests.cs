using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Studies;

/// <summary>The study experiments end to end on tiny settings, through the results store as a sweep runs them.</summary>
public sealed class StudyExperimentTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "tlab-study-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(root)) Directory.Delete(root, recursive: true); }

    static readonly KeyValuePair<string, string>[] Tiny =
    [
        new("task", "reverse"), new("symbols", "6"), new("min_length", "2"), new("max_length", "5"), new("train_size", "300"),
        new("dev_size", "30"), new("test_size", "30"), new("d_model", "32"), new("heads", "2"), new("d_ff", "64"),
        new("batch_size", "16"), new("max_steps", "20"), new("eval_every", "10"), new("warmup", "5"), new("log_every", "5"),
    ];

    RunRecord RunOne(string experiment, params KeyValuePair<string, string>[] extra)
    {
        var store = new ResultsStore(root);
        var spec = Sweep.Plan(ExperimentRegistry.Get(experiment), [.. Tiny.Where(t => extra.All(e => e.Key != t.Key)), .. extra], [], seeds: 1).Single();
        Assert.Equal(RunState.Done, store.Execute(spec, threads: 1));
        return store.Load(experiment).Single(r => r.Key == spec.Key);
    }

    [Fact]
    public void Ln_placement_records_the_gradient_norm_of_every_layer_at_initialisation()
    {
        var run = RunOne("ln-placement", new("encoder_layers", "2"), new("decoder_layers", "3"));
        var table = LayerNormPlacementExperiment.InitialGradients(run);
        Assert.Equal(5, table.Count);
        Assert.Equal(["encoder", "encoder", "decoder", "decoder", "decoder"], table.Select(r => r.Stack));
        Assert.Equal([0, 1, 0, 1, 2], table.Select(r => r.Layer));
        Assert.Equal(run.Metrics["init_grad_norm/decoder.layers.2"], table[^1].GradNorm, 12);
        Assert.True(run.Metrics.ContainsKey("dev_sequence_error"));
    }

    [Fact]
    public void Exposure_bias_and_scheduled_sampling_write_their_measurements()
    {
        foreach (var experiment in new[] { "exposure-bias", "scheduled-sampling" })
        {
            var run = RunOne(experiment);
            foreach (var key in new[] { "tf_loss", "free_loss", "tf_token_accuracy", "free_token_accuracy", "accuracy_gap", "test_sequence_error" })
                Assert.True(run.Metrics.ContainsKey(key), $"{experiment}: {key}");
            Assert.Equal(6, run.Table("by_position.csv").Count);          // targets of up to 5 symbols + EOS
            Assert.Equal([2.0, 3, 4, 5], run.Table("by_length.csv").Select(r => r["source_length"]));
        }
        Assert.Equal("scheduled_sampling", new ResultsStore(root).Load("scheduled-sampling").Single().Config["decoder_input"]);
    }

    [Fact]
    public void At_vs_nat_trains_three_models_and_measures_quality_speed_and_refinement()
    {
        var run = RunOne("at-vs-nat", new KeyValuePair<string, string>("nat_max_length", "8"));
        foreach (var part in new[] { "at", "nat", "nat-kd" })
            Assert.True(File.Exists(Path.Combine(run.Folder, part, "best.ckpt")), part);
        Assert.True(File.Exists(Path.Combine(run.Folder, "at", "best.ckpt.distilled-beam4.tsv")));
        foreach (var key in new[] { "at_greedy_sequence_error", "nat_sequence_error", "nat_kd_sequence_error", "nat_length_accuracy",
                     "nat_repetition", "references_repetition", "latency_b1_nat_ms", "speedup_b1_vs_greedy", "speedup_b1_vs_beam4" })
            Assert.True(run.Metrics.ContainsKey(key), key);
        Assert.Equal(AtVsNatExperiment.Decoders.Count, run.Table("quality.csv").Count);
        Assert.Equal(2 * 2 * 4, run.Table("refinement.csv").Count);
        var lengths = run.Table("latency_by_length.csv").Select(r => r["output_length"]).ToList();
        Assert.True(lengths.Count >= 2 && lengths.All(l => l is >= 2 and <= 5), string.Join(", ", lengths)); // lengths with ≥ 4 test items
        // reverse: the NAT's outputs are exactly as long as the sources when its length classifier is right
        Assert.InRange(run.Metrics["nat_length_accuracy"], 0, 1);
    }

    [Fact]
    public void Decoding_compares_beam_sizes_length_normalisation_and_sampling()
    {
        var run = RunOne("decoding");
        Assert.Equal(DecodingExperiment.BeamSizes.Length * DecodingExperiment.LengthPenalties.Length, run.Table("beam.csv").Count);
        Assert.Equal(DecodingExperiment.SamplingGrid.Count, run.Table("sampling.csv").Count);
        Assert.Equal([2.0, 3, 4, 5], run.Table("beam_by_length.csv").Select(r => r["source_length"]));
        Assert.True(run.Metrics.ContainsKey("beam4_lp1_sequence_error"));
        foreach (var row in run.Table("sampling.csv")) Assert.InRange(row["distinct_outputs"], 1, DecodingExperiment.Samples);
        // the oracle over the beam's n best can only get better with more candidates, and its first candidate is beam 5's answer
        var oracle = DecodingExperiment.BeamOracle(run);
        Assert.Equal(Enumerable.Range(1, DecodingExperiment.OracleCandidates), oracle.Select(r => r.Candidates));
        Assert.All(oracle.Zip(oracle.Skip(1)), pair => Assert.True(pair.Second.OracleSequenceError <= pair.First.OracleSequenceError));
    }

    [Fact]
    public void Test_measures_the_dev_chosen_checkpoint_once_on_test_greedily_and_with_beam_search()
    {
        var run = RunOne("test");
        var readings = HeldOutTestExperiment.ReadingsOf(run);
        Assert.Equal(30, readings.TestItems);
        Assert.InRange(readings.TestGreedySequenceError, 0, 1);
        Assert.InRange(readings.TestBeamSymbolError, 0, 1);
        // the predictions files hold every test item, and their "correct" column agrees with the reported error
        var greedy = File.ReadAllLines(Path.Combine(run.Folder, "test-greedy.tsv"));
        Assert.Equal(PredictionsFile.Header, greedy[0]);
        Assert.Equal(30, greedy.Length - 1);
        Assert.Equal(readings.TestGreedySequenceError, greedy.Skip(1).Count(l => l.Split('\t')[3] == "0") / 30.0, 1e-12);
        Assert.True(File.Exists(Path.Combine(run.Folder, $"test-beam{HeldOutTestExperiment.Beam}.tsv")));
    }

    [Fact]
    public void Sequence_training_fine_tunes_the_mle_model_three_ways_and_measures_each_on_test()
    {
        var run = RunOne("sequence-training", new("finetune_steps", "4"), new("candidates", "3"), new("finetune_lr", "0.001"));
        var rows = SequenceTrainingExperiment.Objectives(run);
        Assert.Equal(SequenceTrainingExperiment.Models, rows.Select(r => r.Model));
        Assert.All(rows, r => { Assert.InRange(r.TestSequenceError, 0, 1); Assert.InRange(r.FreeRunningAccuracy, 0, 1); });
        foreach (var objective in new[] { TrainingObjective.Mle, TrainingObjective.Mrt, TrainingObjective.Reinforce })
        {
            var folder = Path.Combine(run.Folder, SequenceTrainingExperiment.Folder(objective));
            Assert.True(File.Exists(Path.Combine(folder, "test-greedy.tsv")), objective.ToString());
            Assert.InRange(rows.Single(r => r.Model == SequenceTrainingExperiment.ModelName(objective)).BestStep, 1, 4);
        }
        // the MLE model's own row is the run's: chosen on dev at the step the run reports
        Assert.Equal(run.Metrics["best_step"], rows[0].BestStep);
        Assert.Equal(run.Metrics["dev_sequence_error"], rows[0].DevSequenceError, 12);
    }

    [Fact]
    public void Copying_measures_names_by_how_often_training_showed_them_and_only_the_pointer_recalls_unseen_ones()
    {
        KeyValuePair<string, string>[] names = [new("task", "names"), new("names", "40"), new("max_length", "4"), new("label_smoothing", "0")];
        var plain = RunOne("copying", names);
        var pointer = RunOne("copying", [.. names, new("copy", "true")]);
        foreach (var run in new[] { plain, pointer })
        {
            Assert.Equal(CopyingExperiment.Buckets, CopyingExperiment.ByFrequency(run).Select(r => r.TrainingCount));
            var readings = CopyingExperiment.ReadingsOf(run);
            Assert.InRange(readings.TestSequenceError, 0, 1);
            Assert.True(CopyingExperiment.ByFrequency(run)[0].Names > 0); // test holds unseen names
        }
        // without a copy mechanism an unseen name is outside the target vocabulary: it can never be produced
        Assert.Equal(0, CopyingExperiment.ReadingsOf(plain).UnseenNameRecall);
        Assert.Equal(1, CopyingExperiment.ReadingsOf(plain).TestSequenceErrorUnseenName);
        Assert.Empty(CopyingExperiment.GenerationProbabilities(plain));
        var gates = CopyingExperiment.GenerationProbabilities(pointer);
        Assert.NotEmpty(gates);
        Assert.All(gates, g => Assert.InRange(g.PGen, 0, 1));
        Assert.Contains(gates, g => g.IsName);
    }

    [Fact]
    public void Guided_attention_reads_the_cross_attention_at_every_evaluation()
    {
        var run = RunOne("guided-attention", new("task", "g2p"), new("eval_items", "20"), new("guided_attention", "1"));
        var diagonality = GuidedAttentionExperiment.Diagonality(run);
        Assert.Equal([10L, 20], diagonality.Select(r => r.Step));
        Assert.All(diagonality, r => Assert.InRange(r.DiagonalShare, 0, 1));
        var alignment = GuidedAttentionExperiment.Alignment(run);
        Assert.Equal([10L, 20], alignment.Select(r => r.Step).Distinct());
        foreach (var row in alignment.GroupBy(r => (r.Step, r.OutputPosition))) // each output position's weights over the source sum to 1
            Assert.Equal(1.0, row.Sum(r => r.Weight), 4);
    }

    [Fact]
    public void A_training_run_stopped_after_its_last_checkpoint_resumes_instead_of_retraining()
    {
        var first = RunOne("train");
        var checkpoint = File.ReadAllBytes(Path.Combine(first.Folder, "last.ckpt"));
        File.Delete(Path.Combine(first.Folder, "status.json")); // as a crash in a later measurement leaves it: pending
        var again = RunOne("train");
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(again.Folder, "last.ckpt"))); // nothing retrained
        Assert.Equal(first.Metrics["dev_sequence_error"], again.Metrics["dev_sequence_error"]);
        Assert.Equal(first.Metrics["best_step"], again.Metrics["best_step"]);
    }
}
