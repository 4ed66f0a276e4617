using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using static TorchSharp.torch;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>guided-attention</c> (notebook 12): does guided attention (Tachibana et al. 2017, <c>guided_attention=λ</c>) make
/// G2P's cross-attention diagonal sooner, train faster and end better? At every dev evaluation it reads the last decoder
/// layer's cross-attention (teacher-forced, averaged over heads) on the first dev words: the share of weight within the
/// band |n/N − t/T| ≤ g (<c>diagonality.csv</c>, <see cref="DiagonalityRow"/>) and the whole map of one fixed word
/// (<c>alignment.csv</c>, <see cref="AlignmentRow"/>). Compare <c>--grid guided_attention=0,λ</c>, paired by seed.
/// </summary>
public sealed class GuidedAttentionExperiment : TrainingExperiment
{
    public override string Name => "guided-attention";
    public override string Question => "Does guided attention make G2P's cross-attention diagonal sooner, and does the model train faster and end better?";
    public override IReadOnlyList<string> Tables => ["diagonality.csv", "alignment.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.SmallG2p.WithLoop(l => l with { MaxSteps = 1500, EvalEvery = 250 });

    /// <summary>The dev words whose attention is read at each evaluation (the first ones of dev).</summary>
    public const int Words = 200;

    /// <summary>One row of diagonality.csv: at a step, the share of cross-attention weight within the band |n/N − t/T| ≤ <c>Band</c>, over the first dev words.</summary>
    public sealed record DiagonalityRow(long Step, double Band, double DiagonalShare);

    /// <summary>One row of alignment.csv: at a step, the head-averaged cross-attention weight of output position t on source position n for the fixed word.</summary>
    public sealed record AlignmentRow(long Step, string Word, int OutputPosition, int SourcePosition, double Weight);

    public static IReadOnlyList<DiagonalityRow> Diagonality(RunRecord run) => Csv.ReadRows<DiagonalityRow>(Path.Combine(run.Folder, "diagonality.csv"));
    public static IReadOnlyList<AlignmentRow> Alignment(RunRecord run) => Csv.ReadRows<AlignmentRow>(Path.Combine(run.Folder, "alignment.csv"));

    public override void Validate(object config)
    {
        var settings = ((TrainingSettings)config).Validate();
        if (settings.Model.Architecture != Architecture.Autoregressive) throw new SettingsException("guided-attention reads the Transformer decoder's cross-attention: architecture must be autoregressive.");
    }

    protected override void AtEvaluation(DevReport report, nn.Module module, TrainingSettings settings, TaskData data, RunContext context)
    {
        var model = (EncoderDecoder)module;
        var device = TorchRuntime.Device(settings.Device);
        var examples = data.Dev.Take(Words).ToList();
        var band = settings.Objective.GuidedAttention.Width;
        using var scope = NewDisposeScope();
        using var batch = Batching.Make(examples, [.. Enumerable.Range(0, examples.Count)], data.SourceVocabulary, data.TargetVocabulary, device);
        using var maps = model.RecordAttention(batch.Source, batch.TargetInput);
        var attention = maps.Cross[^1].mean([1L]);                                                          // [words, T, N]
        var (distance, real) = GuidedAttention.FromDiagonal(batch.TargetOutput.ne(Vocabulary.Pad).sum([1L]), batch.Source.ne(Vocabulary.Pad).sum([1L]),
            attention.shape[1], attention.shape[2]);
        var inBand = distance.abs().le(band).logical_and(real);
        var share = (attention * inBand.to(ScalarType.Float32)).sum().item<float>() / (attention * real.to(ScalarType.Float32)).sum().item<float>();
        Upsert(Path.Combine(context.Folder, "diagonality.csv"), new DiagonalityRow(report.Step, band, share), r => r.Step);

        int word = examples.FindIndex(e => e.Source.Count >= 7) is >= 0 and var i ? i : 0;             // a word long enough to show a path
        var (T, N) = (examples[word].Target.Count + 1, examples[word].Source.Count);                       // outputs include EOS
        var weights = attention[word].cpu().data<float>().ToArray();
        var width = (int)attention.shape[2];
        var rows = from o in Enumerable.Range(0, T) from s in Enumerable.Range(0, N)
                   select new AlignmentRow(report.Step, string.Concat(examples[word].Source), o, s, weights[o * width + s]);
        Upsert(Path.Combine(context.Folder, "alignment.csv"), rows.ToList(), r => r.Step);
    }

    /// <summary>Replaces the rows of this step in a CSV keyed by step (a resumed run evaluates a step again).</summary>
    static void Upsert<T>(string path, T row, Func<T, long> step) => Upsert(path, [row], step);

    static void Upsert<T>(string path, IReadOnlyList<T> rows, Func<T, long> step)
    {
        var steps = rows.Select(step).ToHashSet();
        var kept = File.Exists(path) ? Csv.ReadRows<T>(path).Where(r => !steps.Contains(step(r))) : [];
        Csv.WriteRows(path, kept.Concat(rows).OrderBy(step).ToList());
    }
}
