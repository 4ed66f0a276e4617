namespace TransformerLab.Data;

/// <summary>Sequence tasks whose answer is a function of the input, so a model's errors are its own, not the data's.</summary>
public enum SyntheticTask
{
    /// <summary>Output = input. Needs only attention to the same position.</summary>
    Copy,
    /// <summary>Output = input reversed. Needs positions: without them the encoder cannot tell first from last.</summary>
    Reverse,
    /// <summary>Output = input sorted. Needs to compare every symbol with every other.</summary>
    Sort,
}

/// <summary>Generates a synthetic task from a seed: same settings, same data.</summary>
public static class SyntheticTasks
{
    /// <param name="symbols">distinct input symbols (named s0, s1, …; sort orders them by number).</param>
    /// <param name="minLength">shortest input.</param>
    /// <param name="maxLength">longest input.</param>
    /// <param name="trainSize">training examples; dev and test never repeat a training input.</param>
    public static TaskData Generate(SyntheticTask task, int symbols = 20, int minLength = 4, int maxLength = 16,
        int trainSize = 20_000, int devSize = 1_000, int testSize = 1_000, int seed = 1)
    {
        if (symbols < 2) throw new ArgumentException($"A synthetic task needs at least 2 symbols (got {symbols}).");
        if (minLength < 1 || maxLength < minLength) throw new ArgumentException($"Need 1 ≤ min length ≤ max length (got {minLength}, {maxLength}).");
        var random = new Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<Example> Make(int count)
        {
            var examples = new List<Example>(count);
            for (int attempts = 0; examples.Count < count; attempts++)
            {
                if (attempts > 20 * count + 1000)
                    throw new ArgumentException($"Cannot draw {count} distinct {task} inputs from {symbols} symbols of length {minLength}–{maxLength}; allow more symbols or longer inputs.");
                var length = random.Next(minLength, maxLength + 1);
                var ids = Enumerable.Range(0, length).Select(_ => random.Next(symbols)).ToArray();
                var source = ids.Select(Name).ToArray();
                if (!seen.Add(string.Join(" ", source))) continue;
                var target = task switch
                {
                    SyntheticTask.Copy => ids,
                    SyntheticTask.Reverse => ids.Reverse().ToArray(),
                    SyntheticTask.Sort => ids.Order().ToArray(),
                    _ => throw new ArgumentOutOfRangeException(nameof(task)),
                };
                examples.Add(new Example(source, target.Select(Name).ToArray()));
            }
            return examples;
        }
        var train = Make(trainSize);
        var dev = Make(devSize);
        var test = Make(testSize);
        return TaskData.FromSplits(task.ToString().ToLowerInvariant(), train, dev, test);
    }

    static string Name(int id) => $"s{id}";
}
