using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Experiments;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Tests.Model;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Studies;

/// <summary>The exposure-bias measurement on an untrained model: arbitrary but fixed predictions, many errors.</summary>
public sealed class ExposureBiasTests
{
    static EncoderDecoder Model() => Reference.NewModel(Reference.SmallConfig(NormPlacement.Pre) with { TargetVocabulary = 9 }, seed: 4);

    [Fact]
    public void Free_running_feeds_back_exactly_what_greedy_decoding_chooses()
    {
        using var model = Model();
        TorchRuntime.Seed(5);
        var source = Reference.Tokens(4, 6, 13, first: 4);
        var greedy = Greedy.Decode(model, source, maxLength: 10);
        using var _ = torch.no_grad();
        var (_, choices) = ExposureBias.FreeRunning(model, source, 10);
        for (int i = 0; i < greedy.Count; i++)
        {
            var row = choices[i].data<long>().ToArray();
            Assert.Equal(greedy[i].Tokens, DecodingCommon.UntilEos(row));
        }
    }

    [Fact]
    public void At_the_first_position_both_regimes_read_only_bos_and_agree()
    {
        using var model = Model();
        var symbols = new[] { "a", "b", "c", "d", "e" };
        var random = new Random(7);
        var examples = Enumerable.Range(0, 40).Select(_ =>
        {
            var s = Enumerable.Range(0, random.Next(2, 6)).Select(_ => symbols[random.Next(symbols.Length)]).ToList();
            return new Example(s, s.AsEnumerable().Reverse().ToList());
        }).ToList();
        var data = TaskData.FromSplits("reverse", examples, examples, examples);
        var report = ExposureBias.Measure(model, examples, data.SourceVocabulary, data.TargetVocabulary, torch.CPU, batchSize: 16);

        var first = report.ByPosition[0];
        Assert.Equal(first.TeacherForcedError, first.FreeRunningError, 12);
        Assert.True(double.IsNaN(first.ErrorAfterEarlierError));          // nothing comes before position 0
        Assert.Equal(first.FreeRunningError, first.ErrorWithoutEarlierError, 12);
        Assert.Equal(examples.Sum(e => e.Target.Count + 1), report.ByPosition.Sum(p => p.Count)); // every token, EOS included
        Assert.Equal(examples.Max(e => e.Target.Count) + 1, report.ByPosition.Count);
        Assert.InRange(report.FreeRunningAccuracy, 0, 1);
        Assert.Equal(report.TeacherForcedAccuracy - report.FreeRunningAccuracy, report.AccuracyGap, 12);
    }

    /// <summary>
    /// The size of the "prefix correct so far" group, recovered from by_position.csv's rates: 30 of 100 tokens follow a
    /// correct prefix with 3 errors, 70 follow an error with 35 — free-running error 0.38 — gives back 30 and 70; with no
    /// earlier error possible (position 0) every token is in the group; equal rates cannot be split.
    /// </summary>
    [Fact]
    public void The_prefix_correct_group_size_is_recovered_from_the_rates()
    {
        var row = new ExposureBiasExperiment.PositionRow(5, 100, 0.2, 0.38, 35 / 70.0, 3 / 30.0);
        Assert.Equal(30, row.PrefixCorrectCount);
        Assert.Equal(70, row.AfterErrorCount);
        Assert.Equal(1000, new ExposureBiasExperiment.PositionRow(0, 1000, 0.016, 0.016, double.NaN, 0.016).PrefixCorrectCount);
        Assert.True(double.IsNaN(new ExposureBiasExperiment.PositionRow(3, 50, 0.1, 0.2, 0.2, 0.2).PrefixCorrectCount));
    }
}
