using System.Text.Json.Serialization;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Model.Convolutional;
using TransformerLab.Model.Recurrent;
using TransformerLab.Runtime;

namespace TransformerLab.Training;

/// <summary>
/// What a run trains: the Transformer encoder–decoder (autoregressive, the paper's), its non-autoregressive decoder
/// (Gu et al. 2018), the recurrent baseline with attention (rnn; Bahdanau et al. 2015, Luong et al. 2015), or the
/// convolutional baseline (cnn; Gehring et al. 2017).
/// </summary>
public enum Architecture { Autoregressive, NonAutoregressive, Rnn, Cnn }

/// <summary>The tasks <c>research train</c> knows.</summary>
public enum TaskKind { G2p, Copy, Reverse, Sort, Names }

/// <summary>
/// Everything one training run depends on. Every property is a <c>--set key=value</c> key (snake_case); together
/// with the code version they determine the result. Defaults are the G2P model of experiments.md.
/// </summary>
public sealed record TrainingSettings
{
    // ── task ──
    /// <summary>What the model learns: g2p (CMUdict letters → phonemes), the synthetic copy, reverse or sort, or names (copy with rare and unseen names, <see cref="NamesTask"/>).</summary>
    public TaskKind Task { get; init; } = TaskKind.G2p;
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
    /// <summary>Seed of the synthetic data, kept apart from <see cref="Seed"/> so that seeds vary training, not the data.</summary>
    public int DataSeed { get; init; } = 1;

    // ── model ──
    /// <summary>
    /// The Transformer this run trains: its keys (d_model, heads, d_ff, encoder_layers, decoder_layers, dropout,
    /// attention_dropout, norm, normalization, positional_encoding, activation, tie_embeddings, causal_mask) are declared
    /// and checked once, in <see cref="TransformerConfig"/>; the vocabularies and positions come from the data
    /// (<see cref="ModelConfig(TaskData)"/>). Default: the G2P model of experiments.md.
    /// </summary>
    public TransformerConfig Model { get; init; } = G2pModel;

    /// <summary>The default model: d_model 256, 4 heads, d_ff 1024, 3 + 3 layers, Pre-LN, tied target embeddings.</summary>
    public static TransformerConfig G2pModel => new()
    {
        DModel = 256, Heads = 4, DFF = 1024, EncoderLayers = 3, DecoderLayers = 3, Norm = NormPlacement.Pre, TieEmbeddings = true,
    };

    /// <summary>These settings with the model changed by <paramref name="change"/> (<c>s.WithModel(m =&gt; m with { Heads = 8 })</c>).</summary>
    public TrainingSettings WithModel(Func<TransformerConfig, TransformerConfig> change) => this with { Model = change(Model) };

    // ── architecture: the Transformer, its non-autoregressive decoder, or a recurrent or convolutional baseline ──
    /// <summary>autoregressive (the Transformer, the paper's decoder), non_autoregressive (Gu et al. 2018; all positions at once), or a baseline for notebook 09: rnn (recurrent with attention) or cnn (convolutional).</summary>
    public Architecture Architecture { get; init; } = Architecture.Autoregressive;
    /// <summary>
    /// The NAT's own choices — decoder input, length rule, length-loss weight, training mask, longest output — used when
    /// <see cref="Architecture"/> is non_autoregressive (keys nat_decoder_input, length_prediction, length_loss_weight,
    /// nat_masking, nat_max_length).
    /// </summary>
    public NonAutoregressiveSettings Nat { get; init; } = new();

    /// <summary>The recurrent baseline's own choices (keys rnn_cell, rnn_attention), used when <see cref="Architecture"/> is rnn; its sizes are the model's (d_model, encoder_layers, decoder_layers, dropout, tie_embeddings).</summary>
    public RecurrentChoices Rnn { get; init; } = new();

    /// <summary>The convolutional baseline's own choices (keys cnn_kernel, cnn_dilation), used when <see cref="Architecture"/> is cnn; its sizes are the model's.</summary>
    public ConvolutionalChoices Cnn { get; init; } = new();

    /// <summary>These settings with the NAT's choices changed by <paramref name="change"/>.</summary>
    public TrainingSettings WithNat(Func<NonAutoregressiveSettings, NonAutoregressiveSettings> change) => this with { Nat = change(Nat) };

    /// <summary>
    /// Sequence-level knowledge distillation (Kim &amp; Rush 2016): an autoregressive checkpoint, relative to the workspace,
    /// whose beam-search outputs replace the training targets. Empty: train on the data's own targets.
    /// </summary>
    public string DistillFrom { get; init; } = "";
    /// <summary>Beam size of the distilling teacher.</summary>
    public int DistillBeam { get; init; } = 4;

    /// <summary>
    /// The training loss and, for sequence-level training, its choices (keys objective, sequence_cost, candidates,
    /// mrt_alpha, mrt_reference, mle_weight, mle_anneal, init_from).
    /// </summary>
    public SequenceTrainingSettings Sequence { get; init; } = new();

    // ── optimisation ──
    /// <summary>Peak learning rate (for noam: the scale factor of the formula).</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>Learning-rate schedule after warm-up: noam, inverse_sqrt, cosine or constant.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;
    /// <summary>Steps of linear learning-rate warm-up from 0 to lr.</summary>
    public int Warmup { get; init; } = 1000;
    /// <summary>Cosine: the learning rate at the last step.</summary>
    public double MinLr { get; init; }
    /// <summary>AdamW's decoupled weight decay (TorchSharp's default is 0).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>AdamW's β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW's β₂ (0.98 in the paper).</summary>
    public double Beta2 { get; init; } = 0.98;
    /// <summary>Clip the global gradient norm to this; 0 = no clipping.</summary>
    public double Clip { get; init; } = 1.0;
    /// <summary>Label smoothing ε of the cross-entropy (0.1 in the paper).</summary>
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>Weight λ of the guided-attention loss on the last decoder layer's cross-attention (Tachibana et al. 2017); 0 = off.</summary>
    public double GuidedAttention { get; init; }
    /// <summary>g of guided attention: how far from the diagonal weight is tolerated (W = 1 − exp(−(n/N − t/T)² / 2g²)).</summary>
    public double GuidedAttentionWidth { get; init; } = 0.2;
    /// <summary>
    /// The copy mechanism (See et al. 2017): a pointer-generator output layer that can copy source words — also a row's
    /// words that no vocabulary holds (<see cref="Data.ExtendedVocabulary"/>). Transformer only; off by default.
    /// </summary>
    public bool Copy { get; init; }
    /// <summary>Sentences per batch.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Optimiser steps in all.</summary>
    public int MaxSteps { get; init; } = 9_000;
    /// <summary>What the decoder reads while training: teacher_forcing (the gold prefix) or scheduled_sampling.</summary>
    public DecoderInputKind DecoderInput { get; init; } = DecoderInputKind.TeacherForcing;
    /// <summary>Scheduled sampling: how ε_i (the chance of feeding the gold token) decays; see <see cref="TeacherForcingSchedule"/>.</summary>
    public TeacherForcingDecay SamplingDecay { get; init; } = TeacherForcingDecay.InverseSigmoid;
    /// <summary>Scheduled sampling: k of the decay (linear: ε at step 0; exponential: base &lt; 1; inverse sigmoid: k ≥ 1).</summary>
    [JsonPropertyName("sampling_k")] public double SamplingK { get; init; } = 700;
    /// <summary>Scheduled sampling, linear decay: ε falls by this much per step.</summary>
    [JsonPropertyName("sampling_c")] public double SamplingC { get; init; } = 1e-4;
    /// <summary>Scheduled sampling, linear decay: ε never falls below this.</summary>
    public double SamplingMin { get; init; }
    /// <summary>Scheduled sampling: feed the model's argmax or a token sampled from it.</summary>
    public PredictionChoice SamplingPredictions { get; init; } = PredictionChoice.Argmax;

    // ── evaluation, logging, stopping ──
    /// <summary>Evaluate on dev (loss + greedy decoding) every this many steps, and at the end.</summary>
    public int EvalEvery { get; init; } = 1000;
    /// <summary>Dev items to decode at each evaluation; 0 = all.</summary>
    public int EvalItems { get; init; }
    /// <summary>Stop after this many evaluations without a better dev error; 0 = never.</summary>
    public int Patience { get; init; }
    /// <summary>Write a steps.csv row (and a TensorBoard point) every this many steps.</summary>
    public int LogEvery { get; init; } = 50;
    /// <summary>Diverged when the smoothed loss exceeds this multiple of its lowest value (or is not finite); with objective mrt or reinforce only a non-finite loss or gradient counts.</summary>
    public double DivergenceFactor { get; init; } = 4.0;

    // ── reproducibility and hardware ──
    /// <summary>Seed of initialisation, batch order, dropout and sampling; seeds vary training, data_seed the data.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Where to compute: cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Torch intra-op threads; 0 = LibTorch's default (one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Matrix products in float32 (fp32), or in bfloat16 with float32 weights, optimiser state, norms and loss (bf16: mixed precision; a CPU needs native bf16).</summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>Defaults that suit each task (a short run for the synthetic ones).</summary>
    public static TrainingSettings For(TaskKind task) => task switch
    {
        TaskKind.G2p => new TrainingSettings(),
        _ => new TrainingSettings
        {
            Task = task, Model = G2pModel with { DModel = 128, DFF = 512, EncoderLayers = 2, DecoderLayers = 2, Heads = 4 },
            BatchSize = 64, MaxSteps = 3000, Warmup = 400, Lr = 1e-3, EvalEvery = 500, LabelSmoothing = 0.0,
        },
    };

    /// <summary>
    /// A G2P model small enough for several runs per hour on 2 cores (d_model 128, 2 + 2 layers, 3,000 steps): the
    /// studies that train G2P many times (scheduled sampling, AT vs NAT, decoding) use it. The full model is the default.
    /// </summary>
    public static TrainingSettings SmallG2p => new()
    {
        Model = G2pModel with { DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 }, BatchSize = 128,
        Warmup = 300, Lr = 2e-3, MaxSteps = 3000, EvalEvery = 1000, EvalItems = 1000,
    };

    /// <summary>The model this run trains, for the task's vocabularies.</summary>
    public TransformerConfig ModelConfig(TaskData data) => ModelConfig(data.SourceVocabulary.Count, data.TargetVocabulary.Count).Validate();

    /// <summary>The model this run trains, for vocabularies of these sizes (not yet validated).</summary>
    public TransformerConfig ModelConfig(long sourceVocabulary, long targetVocabulary) => ModelShape with
    {
        SourceVocabulary = sourceVocabulary,
        TargetVocabulary = targetVocabulary,
    };

    /// <summary>The Transformer's keys with the positions the task needs and the padding id; the vocabularies come from the data.</summary>
    TransformerConfig ModelShape => Model with { MaxLength = Positions, PadId = Vocabulary.Pad };

    /// <summary>Positions the model has: room for the task's longest input twice over (a G2P word has at most ~40 letters).</summary>
    long Positions => Math.Max(64, 2 * (Task == TaskKind.G2p ? 40 : (long)MaxLength) + 16);

    /// <summary>
    /// The model this run trains, as a <see cref="TransformerLab.Model.ModelSpec"/>: the architecture with its configuration (the
    /// Transformer's keys, the positions the task needs) and its own choices (copy; the NAT's, the baselines'). What a
    /// checkpoint restores from.
    /// </summary>
    public ModelSpec ModelSpec() => Architecture switch
    {
        Architecture.Autoregressive => new ModelSpec.Transformer(ModelShape, Copy),
        Architecture.NonAutoregressive => new ModelSpec.NonAutoregressive(new NonAutoregressiveConfig
        {
            Transformer = ModelShape with { CausalMask = false },
            DecoderInput = Nat.DecoderInput, Length = Nat.LengthPrediction, MaxTargetLength = Nat.MaxLength,
        }),
        Architecture.Rnn => new ModelSpec.Recurrent(ModelShape, Rnn),
        Architecture.Cnn => new ModelSpec.Convolutional(ModelShape, Cnn),
        _ => throw new InvalidOperationException($"unknown architecture {Architecture}."),
    };

    /// <summary>Every problem with these settings, one sentence each; the model's keys are checked by <see cref="TransformerConfig.ChoiceProblems"/>.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (Task != TaskKind.G2p)
        {
            if (Symbols < 2) p.Add($"symbols must be at least 2 (got {Symbols}): a task over one symbol has nothing to learn.");
            if (MinLength < 1) p.Add($"min_length must be at least 1 (got {MinLength}).");
            if (MaxLength < MinLength) p.Add($"max_length ({MaxLength}) must be at least min_length ({MinLength}).");
            if (TrainSize < 1 || DevSize < 1 || TestSize < 1) p.Add($"train_size, dev_size and test_size must each be at least 1 (got {TrainSize}, {DevSize}, {TestSize}): a run trains on train, chooses on dev and reports test.");
            if (Task == TaskKind.Names && Names < 1) p.Add($"names must be at least 1 (got {Names}).");
            if (MaxLength > 10_000) p.Add($"max_length must be at most 10,000 (got {MaxLength}): the model's positions are sized from it.");
        }
        if (SourceEos && Task == TaskKind.G2p) p.Add("source_eos ends the sources of the synthetic tasks (copy, reverse, sort, names); G2P words need no end marker here: leave it false.");
        if (string.IsNullOrWhiteSpace(DataPath)) p.Add("data_path is empty: name the CMUdict file (default data/cmudict/cmudict.dict).");
        if (Lr <= 0) p.Add($"lr must be positive (got {Lr}).");
        if (Lr > 1e30) p.Add($"lr must be at most 1e30 (got {Lr}): the optimiser computes in float32, which overflows beyond.");
        if (Beta1 is < 0 or >= 1) p.Add($"beta1 must be in [0, 1) (got {Beta1}).");
        if (Beta2 is < 0 or >= 1) p.Add($"beta2 must be in [0, 1) (got {Beta2}).");
        if (Clip > 1e6) p.Add($"clip above 1,000,000 clips nothing and overflows float32 (got {Clip}); use clip=0 for no clipping.");
        if (BatchSize > 1_000_000) p.Add($"batch_size must be at most 1,000,000 (got {BatchSize}).");
        if (Warmup < 0) p.Add($"warmup must be ≥ 0 (got {Warmup}).");
        if (Schedule == LearningRateScheduleKind.Noam && Warmup < 1) p.Add("the noam schedule needs warmup ≥ 1.");
        if (BatchSize < 1) p.Add($"batch_size must be ≥ 1 (got {BatchSize}).");
        if (MaxSteps < 1) p.Add($"max_steps must be ≥ 1 (got {MaxSteps}).");
        if (EvalEvery < 1) p.Add($"eval_every must be ≥ 1 (got {EvalEvery}).");
        if (LogEvery < 1) p.Add($"log_every must be ≥ 1 (got {LogEvery}).");
        if (LabelSmoothing is < 0 or >= 1) p.Add($"label_smoothing must be in [0, 1) (got {LabelSmoothing}).");
        if (Clip < 0) p.Add($"clip must be ≥ 0 (got {Clip}).");
        if (WeightDecay < 0) p.Add($"weight_decay must be ≥ 0 (got {WeightDecay}).");
        if (DivergenceFactor <= 1) p.Add($"divergence_factor must be > 1 (got {DivergenceFactor}).");
        if (Threads < 0) p.Add($"threads must be ≥ 0 (got {Threads}).");
        if (GuidedAttention < 0) p.Add($"guided_attention must be ≥ 0 (got {GuidedAttention}).");
        if (GuidedAttentionWidth <= 0) p.Add($"guided_attention_width must be positive (got {GuidedAttentionWidth}).");
        if (GuidedAttention > 0 && Architecture != Architecture.Autoregressive) p.Add("guided_attention shapes the Transformer decoder's cross-attention (architecture=autoregressive); the NAT and the rnn baseline have no such training loss here.");
        if (Copy && Architecture != Architecture.Autoregressive) p.Add("copy is the Transformer's pointer-generator (architecture=autoregressive); the other architectures have no copy mechanism here.");
        if (Copy && LabelSmoothing > 0) p.Add($"copy: the pointer-generator gives probability 0 to every extended word a row lacks, so a smoothed target has an infinite loss; set label_smoothing=0 (See et al. train without smoothing; got {LabelSmoothing}).");
        if (Architecture == Architecture.Cnn) p.AddRange(Cnn.Problems());
        if (Architecture == Architecture.Rnn && Model.DModel % 2 != 0) p.Add($"the rnn baseline's bidirectional encoder splits d_model in two directions: d_model must be even (got {Model.DModel}).");
        if (DecoderInput == DecoderInputKind.ScheduledSampling) p.AddRange(TeacherForcingSchedule.From(this).Problems());
        p.AddRange(Sequence.Problems());
        if (Sequence.Objective != TrainingObjective.Mle && Architecture == Architecture.NonAutoregressive)
            p.Add($"objective={Sequence.Objective.ToString().ToLowerInvariant()} samples outputs token by token: it trains an autoregressive model (transformer, rnn or cnn), not the NAT.");
        if (DistillBeam < 1) p.Add($"distill_beam must be ≥ 1 (got {DistillBeam}).");
        if (Nat.LengthLossWeight < 0) p.Add($"length_loss_weight must be ≥ 0 (got {Nat.LengthLossWeight}).");
        var modelProblems = Model.ChoiceProblems();
        p.AddRange(modelProblems); // the model checks its own keys; vocabularies are checked when the data gives them
        if (Threads > 1024) p.Add($"threads must be at most 1,024 (got {Threads}); this machine has {Environment.ProcessorCount} cores.");
        if (Task != TaskKind.G2p && ((long)TrainSize + DevSize + TestSize > 10_000_000 || Names > 10_000_000 || Symbols > 1_000_000))
            p.Add($"the synthetic data would be too large to generate (train_size + dev_size + test_size at most 10,000,000, names at most 10,000,000, symbols at most 1,000,000).");
        if (Sequence.Candidates > 1_024) p.Add($"candidates must be at most 1,024 (got {Sequence.Candidates}).");
        if (DistillBeam > 256) p.Add($"distill_beam must be at most 256 (got {DistillBeam}).");
        if (modelProblems.Count == 0 && TrainingBytes() > AvailableMemory)
            p.Add($"the model would have about {ParameterEstimate():G3} parameters and need about {TrainingBytes() / 1e9:G3} GB for its weights, gradients and optimiser state, more than this machine's {AvailableMemory / 1e9:G3} GB; make d_model, d_ff or the layers smaller.");
        if (Architecture == Architecture.NonAutoregressive && Nat.MaxLength < 1) p.Add($"nat_max_length must be at least 1 (got {Nat.MaxLength}).");
        if (Architecture == Architecture.NonAutoregressive && Nat.MaxLength + 1 > Positions) p.Add($"nat_max_length ({Nat.MaxLength}) must be below the model's positions ({Positions}).");
        return p;
    }

    /// <summary>
    /// About how many parameters the model has — every layer's projections and feed-forward weights, the embeddings over
    /// the task's vocabularies (an upper guess for G2P), the positions — before any data is loaded: enough to refuse a run
    /// that cannot fit in memory instead of letting it be killed.
    /// </summary>
    public double ParameterEstimate()
    {
        double d = Model.DModel, f = Model.DFF;
        double vocabulary = Task == TaskKind.G2p ? 100 : Symbols + 4.0 + (Task == TaskKind.Names ? 2.0 * Names : 0);
        double layers = Model.EncoderLayers * (4 * d * d + 2 * d * f) + Model.DecoderLayers * (8 * d * d + 2 * d * f);
        if (Architecture == Architecture.Cnn) layers *= Math.Max(1, Cnn.Kernel);
        return layers + 2 * vocabulary * d + (double)Positions * d;
    }

    /// <summary>Weights, gradients and AdamW's two moments, in float32.</summary>
    double TrainingBytes() => 16 * ParameterEstimate();

    static double AvailableMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Settings that are valid but almost certainly not what was meant: the run goes ahead, the user is told.</summary>
    public IReadOnlyList<string> Warnings()
    {
        var w = new List<string>();
        if (Warmup >= MaxSteps)
            w.Add($"warmup ({Warmup}) ≥ max_steps ({MaxSteps}): every step is warm-up, so the learning rate never reaches lr = {Lr}. " +
                  $"Lower warmup (e.g. --set warmup={Math.Max(1, MaxSteps / 10)}) or raise max_steps.");
        if (Sequence.Objective != TrainingObjective.Mle && Sequence.InitFrom.Length == 0 && Sequence.MleWeight == 0)
            w.Add($"objective={Sequence.Objective.ToString().ToLowerInvariant()} from random weights and without the likelihood loss: the samples are noise and carry almost no signal. " +
                  "Fine-tune an MLE model (--set init_from=<its best.ckpt>), or keep some likelihood in (--set mle_weight=1 --set mle_anneal=<steps>).");
        if (Threads > Environment.ProcessorCount)
            w.Add($"threads={Threads} is more than this machine's {Environment.ProcessorCount} cores: the threads take turns on the cores and every step is slower; use threads={Environment.ProcessorCount} or fewer.");
        if (EvalEvery > MaxSteps && MaxSteps > 0 && Patience > 0)
            w.Add($"eval_every ({EvalEvery}) > max_steps ({MaxSteps}): only the final evaluation runs, so patience ({Patience}) never stops early.");
        return w;
    }

    public TrainingSettings Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new SettingsException("Invalid training settings:" + string.Concat(problems.Select(x => Environment.NewLine + "  - " + x)));
        return this;
    }

    /// <summary>Loads the task's data: CMUdict from <paramref name="workspaceRoot"/>/<see cref="DataPath"/>, or a synthetic task from the seed.</summary>
    /// <exception cref="SettingsException">data_path names no file.</exception>
    /// <exception cref="InvalidDataException">the file is not a CMUdict, or a split comes out empty.</exception>
    public TaskData LoadData(string workspaceRoot) => WithSourceEos(Task switch
    {
        TaskKind.G2p => File.Exists(Path.Combine(workspaceRoot, DataPath)) ? CmuDict.Load(Path.Combine(workspaceRoot, DataPath), Stress)
            : throw new SettingsException($"data_path: no file at {Path.Combine(workspaceRoot, DataPath)}; the CMUdict is committed at {CmuDict.DefaultPath} (leave data_path at its default, or name a cmudict.dict file relative to the workspace)."),
        TaskKind.Names => NamesTask.Generate(Symbols, MinLength, MaxLength, Names, TrainSize, DevSize, TestSize, DataSeed),
        _ => SyntheticTasks.Generate(Task switch { TaskKind.Copy => SyntheticTask.Copy, TaskKind.Reverse => SyntheticTask.Reverse, _ => SyntheticTask.Sort },
            Symbols, MinLength, MaxLength, TrainSize, DevSize, TestSize, DataSeed),
    });

    /// <summary>The data with EOS ending every source when <see cref="SourceEos"/> asks for it (synthetic tasks only).</summary>
    TaskData WithSourceEos(TaskData data)
    {
        if (!SourceEos || Task == TaskKind.G2p) return data;
        var eos = Vocabulary.Reserved[Vocabulary.Eos];
        List<Example> Ended(IReadOnlyList<Example> split) => [.. split.Select(e => e with { Source = [.. e.Source, eos] })];
        return TaskData.FromSplits(data.Name + "-source-eos", Ended(data.Train), Ended(data.Dev), Ended(data.Test));
    }
}

/// <summary>What a non-autoregressive run chooses beyond the Transformer itself (Gu et al. 2018; Ghazvininejad et al. 2019).</summary>
public sealed record NonAutoregressiveSettings
{
    /// <summary>NAT decoder input before any token is known: the uniform copy of the source embeddings, or positions only.</summary>
    [JsonPropertyName("nat_decoder_input")] public NatDecoderInput DecoderInput { get; init; } = NatDecoderInput.UniformCopy;
    /// <summary>NAT output length: a classifier over the offset from the source length or over the length, or cut at the first EOS.</summary>
    public LengthPrediction LengthPrediction { get; init; } = LengthPrediction.Offset;
    /// <summary>λ of L_tokens + λ·L_length.</summary>
    public double LengthLossWeight { get; init; } = 0.1;
    /// <summary>NAT training input: every position unknown (Gu et al.) or a uniform share of them (conditional masked LM, for mask-predict).</summary>
    [JsonPropertyName("nat_masking")] public NatMasking Masking { get; init; } = NatMasking.All;
    /// <summary>The longest NAT output (length classes; the width cut_at_eos decodes, EOS included).</summary>
    [JsonPropertyName("nat_max_length")] public int MaxLength { get; init; } = 32;
}
