using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Metrics;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Model;
using TransformerLab.Training;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.NonAutoregressive;

/// <summary>The NAT on untrained models (fixed, arbitrary distributions), its loss, mask-predict and distillation.</summary>
public class NonAutoregressiveTests
{
    static NonAutoregressiveConfig Config(LengthPrediction length = LengthPrediction.Offset, NatDecoderInput input = NatDecoderInput.UniformCopy) => new()
    {
        Transformer = Reference.SmallConfig(NormPlacement.Pre) with { CausalMask = false },
        DecoderInput = input, Length = length, MaxTargetLength = 12,
    };

    static NonAutoregressiveTransformer Nat(NonAutoregressiveConfig config, long seed = 5)
    {
        TorchRuntime.Seed(seed);
        var model = new NonAutoregressiveTransformer(config);
        model.eval();
        return model;
    }

    /// <summary>Sources of lengths 7, 5 and 7 (the second padded).</summary>
    static Tensor Sources()
    {
        TorchRuntime.Seed(11);
        var tokens = Reference.Tokens(3, 7, 13, first: 4);
        tokens[1, 5..] = Vocabulary.Pad;
        return tokens;
    }

    /// <summary>A batch of three examples with targets of lengths 4, 2 and 6.</summary>
    static Batch TargetBatch()
    {
        var source = new Vocabulary([.. Vocabulary.Reserved, .. Enumerable.Range(0, 9).Select(i => $"s{i}")]);
        var target = new Vocabulary([.. Vocabulary.Reserved, .. Enumerable.Range(0, 7).Select(i => $"t{i}")]);
        string[] S(params int[] i) => i.Select(x => $"s{x}").ToArray();
        string[] T(params int[] i) => i.Select(x => $"t{x}").ToArray();
        var examples = new List<Example> { new(S(1, 2, 3), T(1, 2, 3, 4)), new(S(4, 5, 6, 7, 8), T(5, 6)), new(S(0), T(0, 1, 2, 3, 4, 5)) };
        return Batching.Make(examples, [0, 1, 2], source, target);
    }

    [Theory]
    [InlineData(NatDecoderInput.UniformCopy)]
    [InlineData(NatDecoderInput.PositionQueries)]
    public void The_decoder_maps_every_position_at_once_and_has_no_causal_mask(NatDecoderInput input)
    {
        using var model = Nat(Config(input: input));
        using var source = Sources();
        var (memory, mask) = model.Encode(source);
        var tokens = torch.full([3, 6], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64);
        tokens[2, 4..] = Vocabulary.Pad; // the third output is 4 long
        var logits = model.Decode(tokens, source, memory, mask);
        Assert.Equal(new long[] { 3, 6, 11 }, logits.shape);

        // a token revealed at the last position changes the first position's logits: every position reads every other
        var revealed = tokens.clone();
        revealed[..2, 5] = 7; // rows 0 and 1 only: row 2 ends at 4
        var changed = model.Decode(revealed, source, memory, mask);
        Assert.True(changed[0, 0].sub(logits[0, 0]).abs().max().item<float>() > 1e-4);

        // padding beyond a row's length is not read: the third row's real positions do not change
        Reference.AssertClose(logits[2, ..4], changed[2, ..4]);
    }

    [Fact]
    public void One_shot_decoding_is_the_argmax_of_one_pass_at_the_predicted_length()
    {
        using var model = Nat(Config());
        using var source = Sources();
        var output = NonAutoregressiveDecoding.Decode(model, source);
        var (memory, mask) = model.Encode(source);
        var lengthLogits = model.LengthLogits(memory, mask);
        var sourceLengths = source.ne(0).sum([1L]).data<long>().ToArray();
        for (int b = 0; b < 3; b++)
        {
            // the most probable offset class among those that stand for a length in [1, 12]
            var length = Enumerable.Range(0, 25).Where(c => c - 12 + sourceLengths[b] is >= 1 and <= 12)
                .MaxBy(c => lengthLogits[b, c].item<float>()) - 12 + sourceLengths[b];
            Assert.Equal(length, output.Lengths[b]);
            var tokens = torch.full([1, length], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64);
            var logits = model.Decode(tokens, source[b..(b + 1)], memory[b..(b + 1)], mask[b..(b + 1)]);
            logits[.., .., Vocabulary.Pad] = float.NegativeInfinity;
            logits[.., .., Vocabulary.Bos] = float.NegativeInfinity;
            logits[.., .., Vocabulary.Eos] = float.NegativeInfinity;
            Assert.Equal(logits.argmax(-1).squeeze(0).data<long>().ToArray(), output.Hypotheses[b].Tokens);
        }
    }

    [Theory]
    [InlineData(LengthPrediction.Offset)]
    [InlineData(LengthPrediction.Absolute)]
    public void The_length_loss_is_the_cross_entropy_of_the_gold_length_class(LengthPrediction length)
    {
        using var model = Nat(Config(length));
        using var batch = TargetBatch();
        var (memory, mask) = model.Encode(batch.Source);
        var loss = NonAutoregressiveObjective.LengthLoss(model, batch, memory, mask).item<float>();

        // by hand: sources 3, 5, 1 long; targets 4, 2, 6 long
        var logProbs = model.LengthLogits(memory, mask).log_softmax(-1);
        int[] classes = length == LengthPrediction.Offset ? [12 + 1, 12 - 3, 12 + 5] : [4, 2, 6];
        var expected = -Enumerable.Range(0, 3).Average(b => logProbs[b, classes[b]].item<float>());
        Assert.Equal(expected, loss, 5);

        // and a class maps back to its length; a class that stands for no length in [1, 12] maps to none
        long[] sourceLengths = [3, 5, 1];
        Assert.Equal(new long?[] { 4, 2, 6 }, classes.Select((c, b) => model.LengthOf(c, sourceLengths[b])).ToArray());
        Assert.Null(model.LengthOf(0, 3));                                                   // offset −12 or absolute 0
        Assert.Null(model.LengthOf(length == LengthPrediction.Offset ? 24 : 13, 3));         // 15 or 13 tokens: too long
    }

    [Fact]
    public void Targets_score_the_unknown_positions_at_the_gold_length()
    {
        using var batch = TargetBatch();
        var (tokens, labels) = NonAutoregressiveObjective.Targets(Config(), batch, NatMasking.All);
        Assert.Equal(new long[] { 3, 6 }, labels.shape); // the longest target, no EOS
        Assert.Equal(new long[] { 4, 2, 6 }, labels.ne(0).sum([1L]).data<long>().ToArray());
        Assert.False(labels.eq(Vocabulary.Eos).any().item<bool>());
        Assert.True(tokens.eq(NonAutoregressiveTransformer.Placeholder).eq(labels.ne(0)).all().item<bool>());

        var (cutTokens, cutLabels) = NonAutoregressiveObjective.Targets(Config(LengthPrediction.CutAtEos), batch, NatMasking.All);
        Assert.Equal(new long[] { 3, 12 }, cutLabels.shape); // the fixed width, EOS scored
        Assert.Equal(Vocabulary.Eos, cutLabels[1, 2].item<long>());
        Assert.True(cutTokens.eq(NonAutoregressiveTransformer.Placeholder).all().item<bool>());

        TorchRuntime.Seed(4);
        for (int trial = 0; trial < 20; trial++)
        {
            var (shownTokens, maskedLabels) = NonAutoregressiveObjective.Targets(Config(), batch, NatMasking.Uniform);
            var unknown = shownTokens.eq(NonAutoregressiveTransformer.Placeholder);
            // at least one unknown position per row, only unknown positions scored, known ones show the gold token
            Assert.True(unknown.sum([1L]).ge(1).all().item<bool>());
            Assert.True(maskedLabels.ne(0).eq(unknown).all().item<bool>());
            Assert.True(torch.where(unknown.logical_or(shownTokens.eq(0)), labels, shownTokens).eq(labels).all().item<bool>());
        }
    }

    [Theory]
    [InlineData(LengthPrediction.Offset)]
    [InlineData(LengthPrediction.CutAtEos)]
    public void Mask_predict_never_lowers_the_score_of_its_own_output(LengthPrediction length)
    {
        using var model = Nat(Config(length), seed: 8);
        using var source = Sources();
        var output = NonAutoregressiveDecoding.Decode(model, source, new NatDecodeOptions(LengthBeam: 3, Iterations: 6));
        Assert.Equal(6, output.ScoreByIteration.Count);
        for (int t = 1; t < output.ScoreByIteration.Count; t++)
            for (int row = 0; row < output.ScoreByIteration[t].Length; row++)
                Assert.True(output.ScoreByIteration[t][row] >= output.ScoreByIteration[t - 1][row] - 1e-9, $"row {row} fell at iteration {t + 1}");
        // refinement changed something on this untrained model, so the test is not vacuous
        Assert.True(output.ScoreByIteration[^1].Sum() > output.ScoreByIteration[0].Sum());
        var oneShot = NonAutoregressiveDecoding.Decode(model, source, new NatDecodeOptions(LengthBeam: 3, Iterations: 1));
        Assert.Equal(oneShot.ScoreByIteration[0], output.ScoreByIteration[0]);
    }

    [Fact]
    public void A_length_beam_keeps_the_candidate_with_the_best_average_log_probability()
    {
        using var model = Nat(Config());
        using var source = Sources();
        var beam = NonAutoregressiveDecoding.Decode(model, source, new NatDecodeOptions(LengthBeam: 4));
        var one = NonAutoregressiveDecoding.Decode(model, source, new NatDecodeOptions(LengthBeam: 1));
        for (int b = 0; b < 3; b++)
        {
            Assert.True(beam.Hypotheses[b].Score >= one.Hypotheses[b].Score - 1e-9);
            Assert.Equal(beam.Hypotheses[b].LogProbability / beam.Lengths[b], beam.Hypotheses[b].Score, 9);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    public void A_batch_decodes_each_row_as_that_row_alone(int lengthBeam, int iterations)
    {
        // alone, a row has one length candidate and no padded positions: the decoder's shortcut for that case
        using var model = Nat(Config());
        using var source = Sources();
        var options = new NatDecodeOptions(lengthBeam, iterations);
        var together = NonAutoregressiveDecoding.Decode(model, source, options);
        for (int b = 0; b < 3; b++)
        {
            var alone = NonAutoregressiveDecoding.Decode(model, source[b..(b + 1)], options);
            Assert.Equal(together.Hypotheses[b].Tokens, alone.Hypotheses[0].Tokens);
            Assert.Equal(together.Lengths[b], alone.Lengths[0]);
            Assert.Equal(together.Hypotheses[b].LogProbability, alone.Hypotheses[0].LogProbability, 4);
        }
    }

    [Fact]
    public void Cut_at_eos_decodes_the_full_width_and_stops_at_the_first_eos()
    {
        using var model = Nat(Config(LengthPrediction.CutAtEos));
        using var source = Sources();
        var output = NonAutoregressiveDecoding.Decode(model, source);
        foreach (var h in output.Hypotheses)
        {
            Assert.True(h.Tokens.Length <= 12);
            Assert.DoesNotContain((long)Vocabulary.Eos, h.Tokens);
        }
    }

    [Fact]
    public void The_nat_loads_its_teachers_encoder()
    {
        var config = Config();
        using var teacher = Reference.NewModel(config.Transformer with { CausalMask = true }, seed: 1);
        using var model = Nat(config, seed: 2);
        using var source = Sources();
        Assert.False(Reference.Identical(teacher.Encode(source).Memory, model.Encode(source).Memory));
        model.LoadEncoder(teacher);
        Reference.AssertClose(teacher.Encode(source).Memory, model.Encode(source).Memory, atol: 1e-6);
    }

    [Fact]
    public void Distilled_targets_are_the_teachers_beam_outputs_and_repeat_exactly()
    {
        var data = SyntheticTasks.Generate(SyntheticTask.Reverse, 6, 2, 5, 12, 5, 5, seed: 3);
        var config = Reference.SmallConfig(NormPlacement.Pre) with { SourceVocabulary = data.SourceVocabulary.Count, TargetVocabulary = data.TargetVocabulary.Count };
        using var teacher = Reference.NewModel(config, seed: 4);
        var first = SequenceDistillation.TeacherOutputs(teacher, data.Train, data.SourceVocabulary, data.TargetVocabulary, beam: 3, torch.CPU);
        var second = SequenceDistillation.TeacherOutputs(teacher, data.Train, data.SourceVocabulary, data.TargetVocabulary, beam: 3, torch.CPU);
        Assert.Equal(first.Select(e => string.Join(" ", e.Target)), second.Select(e => string.Join(" ", e.Target)));
        Assert.Equal(data.Train.Select(e => e.SourceKey), first.Select(e => e.SourceKey));

        // a longest source: decoded alone it gets the same length limit as in the batch of all sources
        var i = Enumerable.Range(0, data.Train.Count).MaxBy(j => data.Train[j].Source.Count);
        using var input = Batching.Pad([data.SourceVocabulary.Encode(data.Train[i].Source)]);
        var beam = BeamSearch.Decode(teacher, input, new BeamOptions(3))[0][0];
        Assert.Equal(data.TargetVocabulary.Decode(beam.Tokens), first[i].Target);
    }

    [Fact]
    public void Latency_does_not_count_the_warm_up_calls()
    {
        int calls = 0;
        var measured = Latency.Measure(() => Thread.Sleep(calls++ < 2 ? 300 : 1), warmup: 2, repeats: 3);
        Assert.Equal(5, calls);
        Assert.Equal(3, measured.Seconds.Count);
        Assert.True(measured.Median < 0.2, $"median {measured.Median:F3} s includes a warm-up call");
    }

    [Fact]
    public void Repetition_rate_counts_equal_neighbours()
    {
        Assert.Equal(2.0 / 5, Repetition.Rate(new[] { new[] { "a", "a", "b" }, new[] { "c", "c", "d", "e" } }));
        Assert.Equal(0, Repetition.Rate(new[] { new[] { "a" } }));
    }
}
