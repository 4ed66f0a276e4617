namespace TransformerLab.Data;

/// <summary>One source sequence and one reference target, as symbols.</summary>
public sealed record Example(IReadOnlyList<string> Source, IReadOnlyList<string> Target)
{
    /// <summary>The source as one string: examples with the same key are variants of one item (a word's pronunciations).</summary>
    public string SourceKey => string.Join(" ", Source);
}

/// <summary>
/// One item to evaluate: a source with every reference target it has. A prediction is correct if it equals any of
/// them (CMUdict lists several pronunciations for some words).
/// </summary>
public sealed record EvaluationItem(IReadOnlyList<string> Source, IReadOnlyList<IReadOnlyList<string>> References)
{
    /// <summary>Groups examples by source, keeping first-seen order.</summary>
    public static IReadOnlyList<EvaluationItem> Group(IEnumerable<Example> examples) =>
        examples.GroupBy(e => e.SourceKey)
            .Select(g => new EvaluationItem(g.First().Source, g.Select(e => e.Target).ToList()))
            .ToList();
}

/// <summary>A task's data: train/dev/test examples and the two vocabularies (built from the training split).</summary>
public sealed record TaskData(string Name, IReadOnlyList<Example> Train, IReadOnlyList<Example> Dev, IReadOnlyList<Example> Test,
    Vocabulary SourceVocabulary, Vocabulary TargetVocabulary)
{
    public IReadOnlyList<Example> Split(string name) => name switch
    {
        "train" => Train,
        "dev" => Dev,
        "test" => Test,
        _ => throw new ArgumentException($"Unknown split '{name}': use train, dev or test."),
    };

    /// <summary>Builds both vocabularies from the training split.</summary>
    public static TaskData FromSplits(string name, IReadOnlyList<Example> train, IReadOnlyList<Example> dev, IReadOnlyList<Example> test) =>
        new(name, train, dev, test, Vocabulary.Build(train.Select(e => e.Source)), Vocabulary.Build(train.Select(e => e.Target)));
}
