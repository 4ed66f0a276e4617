using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>
/// The copy mechanism wired into the Transformer (See et al. 2017): the extended vocabulary by hand, the copying model at
/// its limits against the plain one, its cached decoding against its teacher-forced pass, and a word no vocabulary holds
/// coming out of greedy and beam search.
/// </summary>
public sealed class CopyingTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("tlab-copy-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // 13 source and 11 target symbols (Reference.SmallConfig); s0–s4 are in both, so they can be copied to their target ids
    static readonly Vocabulary Source = new([.. Vocabulary.Reserved, "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"]);
    static readonly Vocabulary Target = new([.. Vocabulary.Reserved, "s0", "s1", "s2", "s3", "s4", "t0", "t1"]);
    static readonly ExtendedVocabulary Extended = new(Source, Target);

    static EncoderDecoder Model(bool copy, long seed = 7)
    {
        TorchRuntime.Seed(seed);
        var model = new EncoderDecoder(Reference.SmallConfig(NormPlacement.Pre), copy ? Extended : null);
        model.eval();
        return model;
    }

    /// <summary>A copying model whose gate always generates (bias +40) or always copies (−40).</summary>
    static EncoderDecoder Gated(double bias)
    {
        var model = Model(copy: true);
        using (torch.no_grad()) { model.Pointer!.Gate.weight!.zero_(); model.Pointer.Gate.bias!.fill_(bias); }
        return model;
    }

    [Fact]
    public void The_extended_vocabulary_gives_each_rows_unseen_words_their_own_ids()
    {
        // source words: s0 (both vocabularies), s7 (source only), qq and zz (neither)
        string[] row = ["s0", "qq", "s7", "qq", "zz"];
        var words = Extended.RowWords(row);
        Assert.Equal(["qq", "zz"], words);
        int s0 = Source.Id("s0"), s7 = Source.Id("s7");
        Assert.Equal([s0, 13 + 0, s7, 13 + 0, 13 + 1], Extended.EncodeSource(row, words));
        Assert.Equal(Target.Id("s0"), Extended.CopyMap[s0]);           // copied to the same word's target id
        Assert.Equal(Vocabulary.Pad, Extended.CopyMap[s7]);             // a source-only word cannot be copied
        Assert.Equal(Vocabulary.Pad, Extended.CopyMap[Vocabulary.Unk]);
        // targets: t0 is a target word, zz a row word (V_t + 1), yy no one's
        Assert.Equal([Target.Id("t0"), 11 + 1, Vocabulary.Unk], Extended.EncodeTarget(["t0", "zz", "yy"], words));
        Assert.Equal(["s0", "zz", "qq"], Extended.Decode([Target.Id("s0"), 11 + 1, 11 + 0, Vocabulary.Eos, 11 + 1], words));
    }

    [Fact]
    public void A_seed_gives_the_copying_model_the_plain_models_weights_and_with_p_gen_one_its_distribution()
    {
        using var plain = Model(copy: false);
        using var copying = Gated(bias: 40);
        foreach (var (p, c) in plain.ParametersInSeedOrder().Zip(copying.ParametersInSeedOrder()))
            Assert.True(Reference.Identical(p, c));
        Assert.Equal(plain.ParametersInSeedOrder().Count + 2, copying.ParametersInSeedOrder().Count); // the gate's weight and bias, last

        using var _ = torch.no_grad();
        var source = torch.tensor(new long[,] { { 4, 5, 13, 9 }, { 6, 14, 13, 0 } }); // 13, 14: row words
        var target = torch.tensor(new long[,] { { Vocabulary.Bos, 4, 11, 5 }, { Vocabulary.Bos, 12, 6, 0 } }); // 11, 12: copied row words, read as UNK
        var logProbabilities = copying.forward(source, target);
        Assert.Equal([2L, 4, 11 + 2], logProbabilities.shape);                                // V_t + the most row words of any row
        var unknown = source.masked_fill(source.ge(13), Vocabulary.Unk);
        var expected = plain.forward(unknown, target.masked_fill(target.ge(11), Vocabulary.Unk)).log_softmax(-1);
        Reference.AssertClose(expected, logProbabilities[.., .., ..11], atol: 1e-5);
        Assert.True(logProbabilities.exp().sum(-1).allclose(torch.ones(2, 4), atol: 1e-5)); // a distribution
    }

    [Fact]
    public void Cached_decoding_of_a_copying_model_equals_its_teacher_forced_pass_also_after_reordering()
    {
        using var model = Model(copy: true);
        using var _ = torch.no_grad();
        var source = torch.tensor(new long[,] { { 4, 13, 5, 14, 9 }, { 13, 6, 7, 0, 0 } });
        var target = torch.tensor(new long[,] { { Vocabulary.Bos, 12, 4, 11 }, { Vocabulary.Bos, 11, 5, 6 } });
        var whole = model.forward(source, target);
        var encoded = model.Encode(source);
        using var state = model.StartDecoding(encoded);
        for (int t = 0; t < target.shape[1]; t++)
            Reference.AssertClose(whole.select(1, t), model.DecodeStep(target.select(1, t), state), atol: 1e-5);

        using var swapped = model.StartDecoding(encoded);
        var order = torch.tensor(new long[] { 1, 0 });
        model.DecodeStep(target.select(1, 0), swapped);
        swapped.Reorder(order);
        Reference.AssertClose(whole.select(1, 1).index_select(0, order), model.DecodeStep(target.select(1, 1).index_select(0, order), swapped), atol: 1e-5);
    }

    [Fact]
    public void A_word_no_vocabulary_holds_is_copied_by_greedy_and_beam_search_and_never_by_the_plain_model()
    {
        var items = new[] { new EvaluationItem(["qq", "qq", "qq"], [["qq"]]) };
        using var copying = Gated(bias: -40); // always copies: all mass on the row's one word
        var (_, greedy) = Evaluator.Decode(copying, items, Source, Target, DecodeStrategy.Greedy, torch.CPU);
        Assert.NotEmpty(greedy[0].Output);
        Assert.All(greedy[0].Output, w => Assert.Equal("qq", w));
        var (_, beam) = Evaluator.Decode(copying, items, Source, Target, DecodeStrategy.Beam(3), torch.CPU);
        Assert.Equal(greedy[0].Output, beam[0].Output);

        using var plain = Model(copy: false);
        var (_, never) = Evaluator.Decode(plain, items, Source, Target, DecodeStrategy.Greedy, torch.CPU);
        Assert.DoesNotContain("qq", never[0].Output);
    }

    [Fact]
    public void A_copying_run_trains_saves_and_restores_as_a_copying_model()
    {
        var s = TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 16, Heads = 2, DFF = 32, EncoderLayers = 1, DecoderLayers = 1 })
            .WithModel(m => m with { Copy = true })
            .WithLabelSmoothing(0)
            .WithTask(t => t with { Symbols = 6, MinLength = 2, MaxLength = 4, TrainSize = 200, DevSize = 20, TestSize = 20 })
            .WithLoop(l => l with { BatchSize = 16, MaxSteps = 20, EvalEvery = 10 })
            .WithOptimiser(o => o with { Warmup = 5 }) with { Threads = 1 };
        var data = s.LoadData(Workspace.Root(AppContext.BaseDirectory));
        var summary = new Trainer(s, data, folder).Run();
        Assert.Equal(RunStatus.Done, summary.Status);
        using var restored = Checkpoint.Load(Path.Combine(folder, "best.ckpt")).RestoreSequenceToSequence(torch.CPU);
        Assert.True(restored.CopiesSource);
        var (metrics, _) = Evaluator.Decode(restored, EvaluationItem.Group(data.Dev), data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, torch.CPU);
        Assert.Equal(summary.Best!.SequenceError, metrics.SequenceErrorRate, 6); // the checkpoint decodes as training measured it
    }

    [Fact]
    public void Copy_settings_that_cannot_work_are_refused_with_what_to_set()
    {
        var baseline = TrainingSettings.For(TaskKind.Copy).WithModel(m => m with { Copy = true });
        Assert.Contains((baseline.WithLabelSmoothing(0.1)).Problems(), p => p.Contains("label_smoothing=0"));
        Assert.Contains((baseline.WithLabelSmoothing(0).WithArchitecture(Architecture.Rnn)).Problems(), p => p.Contains("architecture=autoregressive"));
        Assert.Empty((baseline.WithLabelSmoothing(0).WithGuidedAttention(g => g with { Weight = 1 })).Problems()); // combined since the attention comes back from the forward pass
        Assert.Empty((baseline.WithLabelSmoothing(0)).Problems());
    }

    /// <summary>
    /// The pointer and guided attention read one tensor — the last decoder layer's cross-attention of the pass, which
    /// <see cref="EncoderDecoder.DecodeWithAttention"/> returns — so a copying model trains with guided attention, and the
    /// penalty adds to its loss.
    /// </summary>
    [Fact]
    public void Copying_and_guided_attention_train_together_on_one_attention_tensor()
    {
        using (var model = Model(copy: true))
        {
            model.eval();
            using var source = torch.tensor(new long[,] { { 4, 5, 6, 7 } });
            using var input = torch.tensor(new long[,] { { Vocabulary.Bos, 4, 5 } });
            using var encoded = model.Encode(source);
            using var logits = model.Decode(input, encoded);
            var (withAttention, attention) = model.DecodeWithAttention(input, encoded);
            Assert.True(logits.allclose(withAttention));                                  // the same pass
            Assert.Equal([1, model.Config.Heads, 3, 4], attention.shape);
            Assert.True(attention.sum(-1).allclose(torch.ones(1, model.Config.Heads, 3)));  // each query's weights over the source
            withAttention.Dispose();
            attention.Dispose();
        }
        var s = TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 16, Heads = 2, DFF = 32, EncoderLayers = 1, DecoderLayers = 1 })
            .WithModel(m => m with { Copy = true })
            .WithLabelSmoothing(0)
            .WithTask(t => t with { Symbols = 6, MinLength = 2, MaxLength = 4, TrainSize = 200, DevSize = 20, TestSize = 20 })
            .WithLoop(l => l with { BatchSize = 16, MaxSteps = 10, EvalEvery = 10, LogEvery = 1 })
            .WithOptimiser(o => o with { Warmup = 5 }) with { Threads = 1 };
        var data = s.LoadData(Workspace.Root(AppContext.BaseDirectory));
        double FirstLoss(double weight) // same seed: same weights and first batch, so the difference is the penalty
        {
            var run = Path.Combine(folder, $"guided-{weight}");
            Assert.Equal(RunStatus.Done, new Trainer(s.WithGuidedAttention(g => g with { Weight = weight }), data, run).Run().Status);
            return Csv.Read(Path.Combine(run, "steps.csv"))[0]["loss"];
        }
        var plain = FirstLoss(0);
        var guided = FirstLoss(1);
        Assert.True(guided > plain, $"the guided-attention penalty did not add to the first step's loss ({guided} against {plain})");
    }
}
