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
    public override IReadOnlyList<string> Tables => ["init_gradients.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.For(TaskKind.Reverse)
        .WithTransformer(m => m with { DModel = 64, Heads = 4, DFF = 256, EncoderLayers = 6, DecoderLayers = 6, Norm = NormPlacement.Post })
        .WithOptimiser(o => o with { Lr = 1e-3, Schedule = LearningRateScheduleKind.Cosine, Warmup = 0, Clip = 0 })
        .WithLoop(l => l with { BatchSize = 64, MaxSteps = 1500, EvalEvery = 250, EvalItems = 500 });

    /// <summary>One row of init_gradients.csv: a layer of the encoder or decoder stack and its gradient norm at initialisation.</summary>
    public sealed record LayerGradient(string Stack, int Layer, double GradNorm);

    public static IReadOnlyList<LayerGradient> InitialGradients(RunRecord run) => Csv.ReadRows<LayerGradient>(Path.Combine(run.Folder, "init_gradients.csv"));

    /// <summary>Runs stored before stacks were named wrote <c>decoder</c> = 0/1 in init_gradients.csv: write the stack's name.</summary>
    public override bool Upgrade(string folder)
    {
        var path = Path.Combine(folder, "init_gradients.csv");
        var rows = Csv.Read(path);
        if (rows.Count == 0 || !rows[0].ContainsKey("decoder")) return false;
        Csv.WriteRows(path, rows.Select(r => new LayerGradient(r["decoder"] == 1 ? "decoder" : "encoder", (int)r["layer"], r["grad_norm"])));
        return true;
    }

    protected override void Before(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var device = Runtime.TorchRuntime.Device(settings.Device);
        var first = Batching.EpochPlan(data.Train, settings.Loop.BatchSize, new Random(settings.Seed))[0];
        using var batch = Batching.Make(data.Train, first, data.SourceVocabulary, data.TargetVocabulary, device);
        var norms = GradientProbe.AtInitialisation(settings.ModelConfig(data), batch, settings.Seed, device);
        foreach (var (layer, norm) in norms) metrics["init_grad_norm/" + layer] = norm;
        Csv.WriteRows(Path.Combine(context.Folder, "init_gradients.csv"), norms
            .Select(n => (Position: Introspection.StackPosition(n.Layer), n.Norm))
            .Where(n => n.Position is not null)
            .Select(n => new LayerGradient(n.Position!.Value.Stack, n.Position.Value.Index, n.Norm)));
        context.Log.WriteLine("gradient norms at initialisation: " + string.Join(", ", norms.Select(n => $"{n.Layer} {n.Norm:G4}")));
    }
}
