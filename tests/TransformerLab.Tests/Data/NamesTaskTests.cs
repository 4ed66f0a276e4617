using TransformerLab.Data;
using Xunit;

namespace TransformerLab.Tests.Data;

/// <summary>The names task (notebook 12): outputs copy inputs; dev and test hold names training never shows.</summary>
public sealed class NamesTaskTests
{
    [Fact]
    public void Dev_and_test_hold_names_training_never_shows_and_every_output_copies_its_input()
    {
        var data = NamesTask.Generate(names: 100, trainSize: 2000, devSize: 200, testSize: 200, seed: 3);
        var trained = data.Train.SelectMany(e => e.Source).Where(NamesTask.IsName).ToHashSet();
        Assert.All(data.Train.Concat(data.Dev).Concat(data.Test), e => Assert.Equal(e.Source, e.Target));
        Assert.All(data.Train, e => Assert.InRange(e.Source.Count(NamesTask.IsName), 1, 2));
        var held = data.Test.SelectMany(e => e.Source).Where(NamesTask.IsName).ToList();
        Assert.Contains(held, n => !trained.Contains(n));                       // unseen names
        Assert.Contains(held, trained.Contains);                                // and seen ones
        Assert.All(held.Where(n => !trained.Contains(n)), n => Assert.True(int.Parse(n[1..]) >= 100)); // from the second pool
        static IEnumerable<string> Text(TaskData d) => d.Test.Select(e => string.Join(" ", e.Source));
        Assert.Equal(Text(data), Text(NamesTask.Generate(names: 100, trainSize: 2000, devSize: 200, testSize: 200, seed: 3))); // same seed, same data
    }
}
