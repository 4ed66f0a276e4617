using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;

namespace TransformerLab.Training;

/// <summary>
/// Everything one training run depends on, composed of its parts: the task (which loads its data), the model, the
/// objective's terms, what the decoder reads while training, distillation, the optimiser and schedule, the loop, and the
/// run's seed and hardware. Every simple property of every part is a <c>--set key=value</c> key (snake_case, flat: a
/// part's keys sit at its place); together with the code version they determine the result. Defaults are the G2P
/// model of experiments.md. Change a part with its <c>With…</c> helper:
/// <c>s.WithLoop(l =&gt; l with { MaxSteps = 300 }).WithTransformer(m =&gt; m with { Heads = 8 })</c>.
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>What the model learns and the choices that generate or load its data (keys task, data_path, stress, symbols, min_length, max_length, names, train_size, dev_size, test_size, source_eos, data_seed).</summary>
    public TaskSpec Task { get; init; } = new();
    /// <summary>The model: the architecture, the Transformer's keys, copying, and each architecture's own choices.</summary>
    public ModelSettings Model { get; init; } = new();
    /// <summary>The loss: cross-entropy (MLE) or a sequence-level objective, guided attention, the NAT's length loss.</summary>
    public Objective Objective { get; init; } = new();
    /// <summary>What the decoder reads while training (teacher forcing, scheduled sampling; the NAT's masking).</summary>
    public DecoderInputSettings DecoderInput { get; init; } = new();
    /// <summary>Sequence-level knowledge distillation of the training targets (keys distill_from, distill_beam); off by default.</summary>
    public DistillationSettings Distillation { get; init; } = new();
    /// <summary>AdamW, the learning-rate schedule and gradient clipping.</summary>
    public OptimiserSettings Optimiser { get; init; } = new();
    /// <summary>Batch size, steps, evaluation, logging and stopping.</summary>
    public LoopSettings Loop { get; init; } = new();

    // ── reproducibility and hardware ──
    /// <summary>Seed of initialisation, batch order, dropout and sampling; seeds vary training, data_seed the data.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Where to compute: cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Torch intra-op threads; 0 = LibTorch's default (one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Matrix products in float32 (fp32), or in bfloat16 with float32 weights, optimiser state, norms and loss (bf16: mixed precision; a CPU needs native bf16).</summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    // ── one part changed, the rest kept (C#'s `with` does not reach into a part) ──
    public TrainingSettings WithTask(Func<TaskSpec, TaskSpec> change) => this with { Task = change(Task) };
    public TrainingSettings WithModel(Func<ModelSettings, ModelSettings> change) => this with { Model = change(Model) };
    /// <summary>These settings with the Transformer's configuration changed (<c>s.WithTransformer(m =&gt; m with { Heads = 8 })</c>).</summary>
    public TrainingSettings WithTransformer(Func<TransformerConfig, TransformerConfig> change) => WithModel(m => m with { Transformer = change(m.Transformer) });
    public TrainingSettings WithArchitecture(Architecture architecture) => WithModel(m => m with { Architecture = architecture });
    public TrainingSettings WithNat(Func<NonAutoregressiveChoices, NonAutoregressiveChoices> change) => WithModel(m => m with { Nat = change(m.Nat) });
    public TrainingSettings WithObjective(Func<Objective, Objective> change) => this with { Objective = change(Objective) };
    public TrainingSettings WithSequence(Func<SequenceTrainingSettings, SequenceTrainingSettings> change) => WithObjective(o => o with { Sequence = change(o.Sequence) });
    public TrainingSettings WithDecoderInput(Func<DecoderInputSettings, DecoderInputSettings> change) => this with { DecoderInput = change(DecoderInput) };
    public TrainingSettings WithOptimiser(Func<OptimiserSettings, OptimiserSettings> change) => this with { Optimiser = change(Optimiser) };
    public TrainingSettings WithLoop(Func<LoopSettings, LoopSettings> change) => this with { Loop = change(Loop) };
    public TrainingSettings WithGuidedAttention(Func<GuidedAttentionTerm, GuidedAttentionTerm> change) => WithObjective(o => o with { GuidedAttention = change(o.GuidedAttention) });
    public TrainingSettings WithDistillation(Func<DistillationSettings, DistillationSettings> change) => this with { Distillation = change(Distillation) };
    /// <summary>These settings with label smoothing ε (the cross-entropy term's one setting).</summary>
    public TrainingSettings WithLabelSmoothing(double epsilon) => WithObjective(o => o with { CrossEntropy = o.CrossEntropy with { LabelSmoothing = epsilon } });

    /// <summary>Defaults that suit each task (a short run for the synthetic ones).</summary>
    public static TrainingSettings For(TaskKind task) => task switch
    {
        TaskKind.G2p => new TrainingSettings(),
        _ => new TrainingSettings
        {
            Task = new TaskSpec { Kind = task },
            Model = new ModelSettings { Transformer = ModelSettings.G2pTransformer with { DModel = 128, DFF = 512, EncoderLayers = 2, DecoderLayers = 2, Heads = 4 } },
            Optimiser = new OptimiserSettings { Warmup = 400, Lr = 1e-3 },
            Loop = new LoopSettings { BatchSize = 64, MaxSteps = 3000, EvalEvery = 500 },
        }.WithLabelSmoothing(0.0),
    };

    /// <summary>
    /// A G2P model small enough for several runs per hour on 2 cores (d_model 128, 2 + 2 layers, 3,000 steps): the
    /// studies that train G2P many times (scheduled sampling, AT vs NAT, decoding) use it. The full model is the default.
    /// </summary>
    public static TrainingSettings SmallG2p => new()
    {
        Model = new ModelSettings { Transformer = ModelSettings.G2pTransformer with { DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 } },
        Optimiser = new OptimiserSettings { Warmup = 300, Lr = 2e-3 },
        Loop = new LoopSettings { BatchSize = 128, MaxSteps = 3000, EvalEvery = 1000, EvalItems = 1000 },
    };

    /// <summary>The model this run trains, as a <see cref="TransformerLab.Model.ModelSpec"/> with the positions its task needs: what a checkpoint restores from.</summary>
    public ModelSpec ModelSpec() => Model.Spec(Task.Positions);

    /// <summary>The Transformer's configuration for the task's vocabularies and positions (validated).</summary>
    public TransformerConfig ModelConfig(TaskData data) => ModelConfig(data.SourceVocabulary.Count, data.TargetVocabulary.Count).Validate();

    /// <summary>The Transformer's configuration for vocabularies of these sizes and the task's positions (not yet validated).</summary>
    public TransformerConfig ModelConfig(long sourceVocabulary, long targetVocabulary) =>
        Model.Shape(Task.Positions) with { SourceVocabulary = sourceVocabulary, TargetVocabulary = targetVocabulary };

    /// <summary>The learning rate at each step of this run.</summary>
    public LearningRateSchedule LearningRates() => Optimiser.LearningRates(Loop.MaxSteps, Model.Transformer.DModel);

    /// <summary>Every problem with these settings, one sentence each: each part checks its own, and the rules between parts live with the part they constrain.</summary>
    public IReadOnlyList<string> Problems()
    {
        var modelProblems = Model.Problems(Task.Positions).ToList();
        var p = new List<string>();
        p.AddRange(Task.Problems());
        p.AddRange(modelProblems);
        p.AddRange(Objective.Problems(Model));
        p.AddRange(DecoderInput.Problems());
        p.AddRange(Distillation.Problems());
        p.AddRange(Optimiser.Problems());
        p.AddRange(Loop.Problems());
        if (Threads < 0) p.Add($"threads must be ≥ 0 (got {Threads}).");
        if (Threads > 1024) p.Add($"threads must be at most 1,024 (got {Threads}); this machine has {Environment.ProcessorCount} cores.");
        if (modelProblems.Count == 0 && TrainingBytes() > AvailableMemory)
            p.Add($"the model would have about {ParameterEstimate():G3} parameters and need about {TrainingBytes() / 1e9:G3} GB for its weights, gradients and optimiser state, more than this machine's {AvailableMemory / 1e9:G3} GB; make d_model, d_ff or the layers smaller.");
        return p;
    }

    /// <summary>About how many parameters the model has, before any data is loaded (<see cref="ModelSettings.ParameterEstimate"/>).</summary>
    public double ParameterEstimate() => Model.ParameterEstimate(Task.VocabularyEstimate, Task.Positions);

    /// <summary>Weights, gradients and AdamW's two moments, in float32.</summary>
    double TrainingBytes() => 16 * ParameterEstimate();

    static double AvailableMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Settings that are valid but almost certainly not what was meant: the run goes ahead, the user is told.</summary>
    public IReadOnlyList<string> Warnings()
    {
        var w = new List<string>();
        w.AddRange(Optimiser.Warnings(Loop.MaxSteps));
        w.AddRange(Objective.Warnings());
        if (Threads > Environment.ProcessorCount)
            w.Add($"threads={Threads} is more than this machine's {Environment.ProcessorCount} cores: the threads take turns on the cores and every step is slower; use threads={Environment.ProcessorCount} or fewer.");
        w.AddRange(Loop.Warnings());
        return w;
    }

    public TrainingSettings Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new SettingsException("Invalid training settings:" + string.Concat(problems.Select(x => Environment.NewLine + "  - " + x)));
        return this;
    }

    /// <summary>Loads the task's data (<see cref="TaskSpec.Load"/>).</summary>
    public TaskData LoadData(string workspaceRoot) => Task.Load(workspaceRoot);
}
