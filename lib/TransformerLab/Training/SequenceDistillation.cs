using System.Security.Cryptography;
using System.Text.Json.Serialization;
using System.Text;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// Sequence-level knowledge distillation (Kim &amp; Rush 2016), the step Gu et al. (2018) found essential for a NAT:
/// the training targets are replaced by an autoregressive teacher's beam-search outputs. A teacher picks one output
/// per source, so the targets lose the data's multi-modality (two pronunciations of one word become one), which a NAT,
/// predicting every position independently, cannot represent.
/// </summary>
public static class SequenceDistillation
{
    /// <summary>
    /// The task's data for <paramref name="settings"/>: <see cref="TaskSpec.Load"/>, with the training
    /// targets distilled from <see cref="DistillationSettings.From"/> when it is set. The teacher's outputs are
    /// cached beside its checkpoint (<c>&lt;checkpoint&gt;.distilled-beamK.tsv</c>) and reused while they match the data.
    /// </summary>
    public static TaskData LoadTrainingData(TrainingSettings settings, string workspaceRoot) =>
        Distil(settings, settings.Task.Load(workspaceRoot), workspaceRoot);

    /// <summary><paramref name="data"/> with its training targets distilled as <see cref="LoadTrainingData"/> does (unchanged without <c>distill_from</c>).</summary>
    public static TaskData Distil(TrainingSettings settings, TaskData data, string workspaceRoot)
    {
        if (string.IsNullOrEmpty(settings.Distillation.From)) return data;
        var checkpointPath = Path.GetFullPath(Path.Combine(workspaceRoot, settings.Distillation.From));
        var cache = $"{checkpointPath}.distilled-beam{settings.Distillation.Beam}.tsv";
        var fingerprint = Fingerprint(checkpointPath, data.Train);
        var cached = ReadCache(cache, fingerprint, data.Train);
        if (cached is not null) return data with { Train = cached };

        TorchRuntime.EnsureLoaded();
        var checkpoint = Checkpoint.Load(checkpointPath);
        if (!checkpoint.HasVocabulariesOf(data))
            throw new SettingsException($"distill_from: {settings.Distillation.From} was trained on other data (its vocabularies differ from {data.Name}'s); distil from a teacher trained on the same task and data settings.");
        using var teacher = checkpoint.RestoreModel(TorchRuntime.Device(settings.Device));
        var distilled = TeacherOutputs(teacher, data.Train, data.SourceVocabulary, data.TargetVocabulary, settings.Distillation.Beam, TorchRuntime.Device(settings.Device));
        WriteCache(cache, fingerprint, distilled);
        return data with { Train = distilled };
    }

    /// <summary>
    /// Each example with its target replaced by the teacher's best beam output for its source (each distinct source
    /// decoded once). Deterministic: beam search has no randomness and the model is in eval mode.
    /// </summary>
    public static IReadOnlyList<Example> TeacherOutputs(SequenceToSequence teacher, IReadOnlyList<Example> examples, Vocabulary source, Vocabulary target, int beam, Device device)
    {
        var items = EvaluationItem.Group(examples);
        var (_, predictions) = Evaluator.Decode(teacher, items, source, target, DecodeStrategy.Beam(beam), device);
        var output = predictions.ToDictionary(p => string.Join(" ", p.Source), p => p.Output);
        return examples.Select(e => e with { Target = output[e.SourceKey] }).ToList();
    }

    /// <summary>Identifies the teacher file and the training sources, so a cache made for other data or another teacher is not used.</summary>
    static string Fingerprint(string checkpointPath, IReadOnlyList<Example> train)
    {
        if (!File.Exists(checkpointPath))
            throw new SettingsException($"distill_from: no checkpoint at {checkpointPath}. Train the autoregressive teacher first (research train … --out <folder>) and pass its best.ckpt, relative to the workspace.");
        using var sha = SHA256.Create();
        using (var file = File.OpenRead(checkpointPath)) sha.TransformBlock(SHA256.HashData(file), 0, 32, null, 0);
        var sources = Encoding.UTF8.GetBytes(string.Join("\n", train.Select(e => e.SourceKey)));
        sha.TransformFinalBlock(sources, 0, sources.Length);
        return Convert.ToHexString(sha.Hash!);
    }

    static IReadOnlyList<Example>? ReadCache(string path, string fingerprint, IReadOnlyList<Example> train)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path);
        if (lines.Length != train.Count + 1 || lines[0] != "# " + fingerprint) return null;
        return train.Select((e, i) => e with { Target = lines[i + 1].Split('\t')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) }).ToList();
    }

    static void WriteCache(string path, string fingerprint, IReadOnlyList<Example> distilled) =>
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(string.Concat(
            new[] { "# " + fingerprint }.Concat(distilled.Select(e => e.SourceKey + "\t" + string.Join(" ", e.Target))).Select(l => l + "\n"))));
}

/// <summary>Whether and from which teacher the training targets are distilled (<see cref="SequenceDistillation"/>).</summary>
public sealed record DistillationSettings
{
    /// <summary>
    /// Sequence-level knowledge distillation (Kim &amp; Rush 2016): an autoregressive checkpoint, relative to the workspace,
    /// whose beam-search outputs replace the training targets. Empty: train on the data's own targets.
    /// </summary>
    [JsonPropertyName("distill_from")] public string From { get; init; } = "";
    /// <summary>Beam size of the distilling teacher.</summary>
    [JsonPropertyName("distill_beam")] public int Beam { get; init; } = 4;

    /// <summary>Every problem with these settings, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (Beam < 1) yield return $"distill_beam must be ≥ 1 (got {Beam}).";
        if (Beam > 256) yield return $"distill_beam must be at most 256 (got {Beam}).";
    }
}
