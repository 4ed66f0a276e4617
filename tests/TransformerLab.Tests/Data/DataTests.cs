using TransformerLab.Data;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Data;

public class DataTests
{
    [Fact]
    public void Source_eos_ends_every_synthetic_source_with_the_eos_id_and_leaves_targets_alone()
    {
        var plain = TransformerLab.Training.TrainingSettings.For(TaskKind.Reverse).WithTask(t => t with { TrainSize = 50, DevSize = 5, TestSize = 5 });
        var ended = plain.WithTask(t => t with { SourceEos = true });
        var (a, b) = (plain.LoadData(Workspace.Root(AppContext.BaseDirectory)), ended.LoadData(Workspace.Root(AppContext.BaseDirectory)));
        Assert.All(a.Train.Zip(b.Train), p =>
        {
            Assert.Equal([.. p.First.Source, "</s>"], p.Second.Source);
            Assert.Equal(p.First.Target, p.Second.Target);
        });
        Assert.Equal(Vocabulary.Eos, b.SourceVocabulary.Encode(b.Dev[0].Source)[^1]);
        Assert.Equal(a.SourceVocabulary.Symbols, b.SourceVocabulary.Symbols); // EOS is reserved: no new symbol
        Assert.Throws<TransformerLab.Runtime.SettingsException>(() => (TransformerLab.Training.TrainingSettings.For(TaskKind.G2p).WithTask(t => t with { SourceEos = true })).Validate());
    }

    [Fact]
    public void The_vocabulary_reserves_pad_bos_eos_unk_and_maps_unseen_symbols_to_unk()
    {
        var v = Vocabulary.Build([["b", "a"], ["c", "a"]]);
        Assert.Equal(["<pad>", "<s>", "</s>", "<unk>", "a", "b", "c"], v.Symbols);
        Assert.Equal([5, 4, Vocabulary.Unk], v.Encode(["b", "a", "zzz"]));
        Assert.Equal(["b", "a"], v.Decode([Vocabulary.Bos, 5, 4, Vocabulary.Eos, 6, Vocabulary.Pad]));
    }

    [Fact]
    public void Decoder_input_is_the_target_shifted_right_and_the_output_ends_with_eos()
    {
        var examples = new[] { new Example(["x", "y", "z"], ["a", "b"]), new Example(["x"], ["c", "a", "b"]) };
        var source = Vocabulary.Build(examples.Select(e => e.Source));
        var target = Vocabulary.Build(examples.Select(e => e.Target));
        using var batch = Batching.Make(examples, [0, 1], source, target);
        long a = target.Id("a"), b = target.Id("b"), c = target.Id("c");
        Assert.Equal(new long[] { Vocabulary.Bos, a, b, 0, Vocabulary.Bos, c, a, b }, batch.TargetInput.data<long>().ToArray());
        Assert.Equal(new long[] { a, b, Vocabulary.Eos, 0, c, a, b, Vocabulary.Eos }, batch.TargetOutput.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 3 }, batch.Source.shape);
        Assert.Equal(7, batch.TargetTokens);
    }

    [Fact]
    public void An_epoch_plan_uses_every_example_once_and_is_the_same_for_the_same_seed()
    {
        var data = SyntheticTasks.Generate(SyntheticTask.Copy, trainSize: 1000, devSize: 10, testSize: 10);
        var plan = Batching.EpochPlan(data.Train, 32, new Random(7));
        Assert.Equal(Enumerable.Range(0, 1000), plan.SelectMany(b => b).Order());
        Assert.Equal(plan, Batching.EpochPlan(data.Train, 32, new Random(7)));
        Assert.NotEqual(plan, Batching.EpochPlan(data.Train, 32, new Random(8)));
        // bucketing: a batch's lengths are closer than a random batch's
        double Spread(IEnumerable<int[]> batches) => batches.Average(bt => bt.Max(i => data.Train[i].Source.Count) - bt.Min(i => data.Train[i].Source.Count));
        Assert.True(Spread(plan) < Spread(Enumerable.Range(0, 1000).Chunk(32)) / 2);
    }

    [Theory]
    [InlineData(SyntheticTask.Copy)]
    [InlineData(SyntheticTask.Reverse)]
    [InlineData(SyntheticTask.Sort)]
    public void Synthetic_targets_are_the_function_of_the_input(SyntheticTask task)
    {
        var data = SyntheticTasks.Generate(task, symbols: 12, trainSize: 200, devSize: 50, testSize: 50, seed: 3);
        foreach (var e in data.Train.Concat(data.Dev))
        {
            var ids = e.Source.Select(s => int.Parse(s[1..])).ToArray();
            var want = task switch { SyntheticTask.Copy => ids, SyntheticTask.Reverse => ids.Reverse().ToArray(), _ => ids.Order().ToArray() };
            Assert.Equal(want.Select(i => $"s{i}"), e.Target);
        }
    }

    [Fact]
    public void Synthetic_data_is_reproducible_and_dev_never_repeats_a_training_input()
    {
        var a = SyntheticTasks.Generate(SyntheticTask.Reverse, seed: 5, trainSize: 2000);
        var b = SyntheticTasks.Generate(SyntheticTask.Reverse, seed: 5, trainSize: 2000);
        Assert.Equal(a.Train.Select(e => e.SourceKey), b.Train.Select(e => e.SourceKey));
        var train = a.Train.Select(e => e.SourceKey).ToHashSet();
        Assert.DoesNotContain(a.Dev.Concat(a.Test), e => train.Contains(e.SourceKey));
    }

    static string Dictionary => Path.Combine(Workspace.Root(AppContext.BaseDirectory), CmuDict.DefaultPath);

    [Fact]
    public void CMUdict_splits_90_5_5_by_word_with_all_variants_together()
    {
        var data = CmuDict.Load(Dictionary);
        var words = new Dictionary<string, string>();
        foreach (var (split, examples) in new[] { ("train", data.Train), ("dev", data.Dev), ("test", data.Test) })
            foreach (var e in examples)
            {
                var word = string.Concat(e.Source);
                Assert.Equal(split, words.TryAdd(word, split) ? split : words[word]); // a word never appears in two splits
                Assert.Equal(split, CmuDict.SplitOf(word));
            }
        double total = words.Count;
        Assert.InRange(words.Values.Count(s => s == "train") / total, 0.89, 0.91);
        Assert.InRange(words.Values.Count(s => s == "dev") / total, 0.045, 0.055);
        // 39 ARPAbet phonemes without stress, plus the four reserved symbols
        Assert.Equal(39 + 4, data.TargetVocabulary.Count);
        Assert.Equal(69 + 4, CmuDict.Load(Dictionary, stress: true).TargetVocabulary.Count);
    }

    [Fact]
    public void CMUdict_keeps_every_pronunciation_of_a_word_as_a_reference()
    {
        var entries = CmuDict.Read(Dictionary);
        var tomato = entries.Single(e => e.Word == "tomato");
        Assert.True(tomato.Pronunciations.Count >= 2);
        var items = EvaluationItem.Group(CmuDict.Load(Dictionary).Split(CmuDict.SplitOf("tomato")));
        var item = items.Single(i => string.Concat(i.Source) == "tomato");
        Assert.Contains(item.References, r => string.Join(" ", r) == "T AH M EY T OW");
        Assert.Contains(item.References, r => string.Join(" ", r) == "T AH M AA T OW");
    }

    [Fact]
    public void The_npm_package_converts_to_cmudict_lines()
    {
        var js = Path.GetTempFileName();
        File.WriteAllText(js, "/** @type */\nexport const dictionary = {\n  \"'bout\": \"B AW1 T\",\n  \"a(2)\": \"EY1\",\n  \"aalborg\": \"AO1 L B AO0 R G # place, danish\"\n}\n");
        try
        {
            Assert.Equal(["'bout B AW1 T", "a(2) EY1", "aalborg AO1 L B AO0 R G # place, danish"], CmuDict.FromNpmPackage(js));
        }
        finally { File.Delete(js); }
    }
}
