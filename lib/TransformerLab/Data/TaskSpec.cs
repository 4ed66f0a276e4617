using System.Text.Json.Serialization;
using TransformerLab.Runtime;

namespace TransformerLab.Data;

/// <summary>The tasks <c>research train</c> knows.</summary>
public enum TaskKind { G2p, Copy, Reverse, Sort, Names }

/// <summary>
/// What a run learns from: the task (G2P on CMUdict, or a synthetic copy, reverse, sort or names task) and the choices
/// that generate or load its data. <see cref="Load"/> gives the splits; the model's positions are sized from it.
/// </summary>
public sealed record TaskSpec
{
    /// <summary>What the model learns: g2p (CMUdict letters → phonemes), the synthetic copy, reverse or sort, or names (copy with rare and unseen names, <see cref="NamesTask"/>).</summary>
    [JsonPropertyName("task")] public TaskKind Kind { get; init; } = TaskKind.G2p;
    /// <summary>CMUdict file, relative to the workspace root.</summary>
    public string DataPath { get; init; } = CmuDict.DefaultPath;
    /// <summary>G2P: keep stress digits on vowels (69 phonemes instead of 39).</summary>
    public bool Stress { get; init; }
    /// <summary>Synthetic tasks: distinct symbols in the vocabulary.</summary>
    public int Symbols { get; init; } = 20;
    /// <summary>Synthetic tasks: the shortest input, in symbols.</summary>
    public int MinLength { get; init; } = 4;
    /// <summary>Synthetic tasks: the longest input, in symbols.</summary>
    public int MaxLength { get; init; } = 16;
    /// <summary>The names task: names in the training pool (dev and test draw half their names from a second, unseen pool of this size).</summary>
    public int Names { get; init; } = 5_000;
    /// <summary>Synthetic tasks: training examples.</summary>
    public int TrainSize { get; init; } = 20_000;
    /// <summary>Synthetic tasks: development examples (model selection, early stopping).</summary>
    public int DevSize { get; init; } = 1_000;
    /// <summary>Synthetic tasks: test examples (reported once, never used to choose).</summary>
    public int TestSize { get; init; } = 1_000;
    /// <summary>
    /// Synthetic tasks: end every source with the EOS symbol, a cue for where the input ends. Without it a model with
    /// absolute positions must find the end of a 16–48-symbol source on its own — the control notebooks 09 and 10's
    /// long-reverse comparison needs (issue 36). Off by default, so stored runs keep their keys.
    /// </summary>
    public bool SourceEos { get; init; }
    /// <summary>Seed of the synthetic data, kept apart from the run's seed so that seeds vary training, not the data.</summary>
    public int DataSeed { get; init; } = 1;

    /// <summary>True for the generated tasks (copy, reverse, sort, names), false for G2P.</summary>
    public bool IsSynthetic => Kind != TaskKind.G2p;

    /// <summary>Positions a model needs: room for the task's longest input twice over (a G2P word has at most ~40 letters).</summary>
    public long Positions => Math.Max(64, 2 * (IsSynthetic ? (long)MaxLength : 40) + 16);

    /// <summary>About how many words the vocabularies hold before any data is loaded (an upper guess for G2P), for memory estimates.</summary>
    public double VocabularyEstimate => IsSynthetic ? Symbols + 4.0 + (Kind == TaskKind.Names ? 2.0 * Names : 0) : 100;

    /// <summary>Every problem with these choices, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(DataPath)) yield return "data_path is empty: name the CMUdict file (default data/cmudict/cmudict.dict).";
        if (SourceEos && !IsSynthetic) yield return "source_eos ends the sources of the synthetic tasks (copy, reverse, sort, names); G2P words need no end marker here: leave it false.";
        if (!IsSynthetic) yield break;
        if (Symbols < 2) yield return $"symbols must be at least 2 (got {Symbols}): a task over one symbol has nothing to learn.";
        if (MinLength < 1) yield return $"min_length must be at least 1 (got {MinLength}).";
        if (MaxLength < MinLength) yield return $"max_length ({MaxLength}) must be at least min_length ({MinLength}).";
        if (TrainSize < 1 || DevSize < 1 || TestSize < 1) yield return $"train_size, dev_size and test_size must each be at least 1 (got {TrainSize}, {DevSize}, {TestSize}): a run trains on train, chooses on dev and reports test.";
        if (Kind == TaskKind.Names && Names < 1) yield return $"names must be at least 1 (got {Names}).";
        if (MaxLength > 10_000) yield return $"max_length must be at most 10,000 (got {MaxLength}): the model's positions are sized from it.";
        if ((long)TrainSize + DevSize + TestSize > 10_000_000 || Names > 10_000_000 || Symbols > 1_000_000)
            yield return "the synthetic data would be too large to generate (train_size + dev_size + test_size at most 10,000,000, names at most 10,000,000, symbols at most 1,000,000).";
    }

    /// <summary>Loads the task's data: CMUdict from <paramref name="workspaceRoot"/>/<see cref="DataPath"/>, or a synthetic task from <see cref="DataSeed"/>.</summary>
    /// <exception cref="SettingsException">data_path names no file.</exception>
    /// <exception cref="InvalidDataException">the file is not a CMUdict, or a split comes out empty.</exception>
    public TaskData Load(string workspaceRoot) => WithSourceEos(Kind switch
    {
        TaskKind.G2p => File.Exists(Path.Combine(workspaceRoot, DataPath)) ? CmuDict.Load(Path.Combine(workspaceRoot, DataPath), Stress)
            : throw new SettingsException($"data_path: no file at {Path.Combine(workspaceRoot, DataPath)}; the CMUdict is committed at {CmuDict.DefaultPath} (leave data_path at its default, or name a cmudict.dict file relative to the workspace)."),
        TaskKind.Names => NamesTask.Generate(Symbols, MinLength, MaxLength, Names, TrainSize, DevSize, TestSize, DataSeed),
        _ => SyntheticTasks.Generate(Kind switch { TaskKind.Copy => SyntheticTask.Copy, TaskKind.Reverse => SyntheticTask.Reverse, _ => SyntheticTask.Sort },
            Symbols, MinLength, MaxLength, TrainSize, DevSize, TestSize, DataSeed),
    });

    /// <summary>The data with EOS ending every source when <see cref="SourceEos"/> asks for it (synthetic tasks only).</summary>
    TaskData WithSourceEos(TaskData data)
    {
        if (!SourceEos || !IsSynthetic) return data;
        var eos = Vocabulary.Reserved[Vocabulary.Eos];
        List<Example> Ended(IReadOnlyList<Example> split) => [.. split.Select(e => e with { Source = [.. e.Source, eos] })];
        return TaskData.FromSplits(data.Name + "-source-eos", Ended(data.Train), Ended(data.Dev), Ended(data.Test));
    }
}
