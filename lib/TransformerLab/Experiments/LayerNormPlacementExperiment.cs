using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Training;
using TransformerLab.Runtime;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>ln-placement</c>: Post-LN against Pre-LN (Xiong et al. 2020). Before training, one backward pass at
/// initialisation gives each layer's gradient norm (metrics <c>init_grad_norm/…</c>, table <c>init_gradients.csv</c>);
/// then the model trains with the run's learning rate and warm-up, and divergence is a result like any other.
/// Defaults: a 6 + 6-layer Post-LN model on reverse without warm-up or gradient clipping, as in the paper's
/// no-warm-up comparison (clipping would hide part of the instability being measured).
/// </summary>
public sealed class LayerNormPlacementExperiment : TrainingExperiment
{
    public override string Name => "ln-placement";
    public override string Question => "Does Post-LN need learning-rate warm-up where Pre-LN does not, and do its gradients at initialisation grow towards the output?";
    public override TrainingSettings DefaultConfig => TrainingSettings.For(TaskKind.Reverse).WithModel(m => m with
    {
        DModel = 64, Heads = 4, DFF = 256, EncoderLayers = 6, DecoderLayers = 6, Norm = NormPlacement.Post,
    }) with
    {
        Lr = 1e-3, Schedule = LearningRateScheduleKind.Cosine, Warmup = 0, Clip = 0,
        BatchSize = 64, MaxSteps = 1500, EvalEvery = 250, EvalItems = 500,
    };

    protected override void Before(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var device = Runtime.TorchRuntime.Device(settings.Device);
        var first = Batching.EpochPlan(data.Train, settings.BatchSize, new Random(settings.Seed))[0];
        using var batch = Batching.Make(data.Train, first, data.SourceVocabulary, data.TargetVocabulary, device);
        var norms = GradientProbe.AtInitialisation(settings.ModelConfig(data), batch, settings.Seed, device);
        foreach (var (layer, norm) in norms) metrics["init_grad_norm/" + layer] = norm;
        NumericCsv.Write(Path.Combine(context.Folder, "init_gradients.csv"), norms
            .Select(n => (Position: Introspection.StackPosition(n.Layer), n.Norm))
            .Where(n => n.Position is not null)
            .Select(n => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>
            {
                ["decoder"] = n.Position is ("decoder", _) ? 1 : 0, ["layer"] = n.Position!.Value.Index, ["grad_norm"] = n.Norm,
            }).ToList());
        context.Log.WriteLine("gradient norms at initialisation: " + string.Join(", ", norms.Select(n => $"{n.Layer} {n.Norm:G4}")));
    }
}
