using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>Where a run stands after a step, for progress bars.</summary>
public sealed record StepReport(long Step, long MaxSteps, int Epoch, double Loss, double LearningRate, double GradientNorm, double TokensPerSecond, TimeSpan Elapsed)
{
    public TimeSpan Remaining => Step == 0 ? TimeSpan.Zero : Elapsed / Step * (MaxSteps - Step);
}

/// <summary>One dev evaluation: teacher-forced (NAT: gold-length) loss and accuracy, and greedy-decoded (NAT: one-shot) error rates.</summary>
public sealed record DevReport(long Step, double Loss, double TokenAccuracy, double SequenceError, double SymbolError, double ExactMatch, bool Best);

/// <summary>
/// Handed to <see cref="TrainerHooks.AfterBackward"/> between backward and the optimiser step: gradients are
/// populated (and clipped) here, so probes such as per-layer gradient norms read them.
/// </summary>
public sealed record StepContext(nn.Module Model, long Step, double Loss, double LearningRate)
{
    public IReadOnlyList<(string Layer, double Norm)> LayerGradientNorms() => Introspection.LayerGradientNorms(Model);
}

/// <summary>Extension points: observe steps and evaluations, read gradients, choose the decoder input.</summary>
public sealed class TrainerHooks
{
    public Action<StepReport>? OnLog { get; init; }
    public Action<DevReport>? OnEvaluation { get; init; }
    /// <summary>Once, when the run continues from <see cref="Trainer.LastCheckpoint"/>: the step it continues from.</summary>
    public Action<long>? OnResume { get; init; }
    /// <summary>After each dev evaluation, before the checkpoint: a reading of the model at that step (e.g. its attention). May run again for a step after a resume.</summary>
    public Action<DevReport, nn.Module>? InspectModel { get; init; }
    public Action<StepContext>? AfterBackward { get; init; }
    /// <summary>Autoregressive runs only; null: built from <see cref="TrainingSettings.DecoderInput"/>.</summary>
    public IDecoderInputPolicy? DecoderInput { get; init; }
}

public enum RunStatus { Done, EarlyStopped, Diverged, Interrupted }

/// <summary>What a finished (or stopped) run reports; also written to <c>summary.json</c>.</summary>
public sealed record TrainingSummary
{
    public RunStatus Status { get; init; }
    public string? Reason { get; init; }
    public long Steps { get; init; }
    public long BestStep { get; init; }
    public DevReport? Best { get; init; }
    public DevReport? Last { get; init; }
    public long Parameters { get; init; }
    public long TokensSeen { get; init; }
    public double TrainingSeconds { get; init; }
    public double TokensPerSecond => TrainingSeconds > 0 ? TokensSeen / TrainingSeconds : 0;
}

/// <summary>
/// The training loop, one readable function in the spirit of nanoGPT: batches → loss → backward → clip → AdamW step,
/// with the learning-rate schedule, periodic dev evaluation, best/last checkpoints, early stopping and a divergence
/// check. Files in the run folder: settings.json, steps.csv, dev.csv, tensorboard/, last.ckpt, best.ckpt, summary.json.
/// </summary>
public sealed class Trainer(TrainingSettings settings, TaskData data, string runFolder, TrainerHooks? hooks = null)
{
    public TrainingSettings Settings { get; } = settings.Validate();
    public string RunFolder { get; } = runFolder;
    public string LastCheckpoint => Path.Combine(RunFolder, "last.ckpt");
    public string BestCheckpoint => Path.Combine(RunFolder, "best.ckpt");
    public string SummaryPath => Path.Combine(RunFolder, "summary.json");
    readonly TrainerHooks hooks = hooks ?? new TrainerHooks();
    /// <summary>A copying model's extended vocabulary, taken from the model once it is built: its batches and decoded outputs carry each row's own unseen words.</summary>
    ExtendedVocabulary? copy;

    /// <summary>
    /// Trains from scratch, or from <see cref="LastCheckpoint"/> when <paramref name="resume"/>. Cancelling stops
    /// after the current step and saves a checkpoint, so the run can be resumed.
    /// </summary>
    public TrainingSummary Run(bool resume = false, CancellationToken cancel = default)
    {
        TorchRuntime.EnsureLoaded();
        var s = Settings;
        var device = TorchRuntime.Device(s.Device);
        // this machine's hardware, checked where the run starts (planning or reporting a bf16 run elsewhere is fine)
        if (MixedPrecision.Unsupported(s.Precision, device) is { } unsupported) throw new SettingsException(unsupported);
        if (data.Train.Count == 0 || data.Dev.Count == 0)
            throw new SettingsException($"The {data.Name} data has {data.Train.Count} train and {data.Dev.Count} dev examples; a run trains on train and chooses on dev, so each needs at least one.");
        if (s.Threads > 0) torch.set_num_threads(s.Threads);
        var resumeFrom = resume ? LoadForResume() : null; // fails before anything is written
        var initial = resume || s.Objective.Sequence.InitFrom.Length == 0 ? null : InitialWeights(s.Objective.Sequence.InitFrom); // so does a bad init_from
        Directory.CreateDirectory(RunFolder);

        TorchRuntime.Seed(s.Seed);
        using var precision = MixedPrecision.Use(s.Precision); // products in bf16 when asked; weights, optimiser and loss stay float32
        using var trainable = TrainableModel.Create(s, data, device, hooks.DecoderInput);
        var model = trainable.Module;
        copy = (model as SequenceToSequence)?.CopyVocabulary;
        var parameters = trainable.Parameters.ToList();
        using var optimizer = s.Optimiser.Create(parameters);
        var schedule = s.LearningRates();
        var progress = new TrainingProgress();
        if (resumeFrom is not null)
        {
            resumeFrom.Model.LoadWeightsInto(model);
            resumeFrom.LoadOptimizerState(optimizer);
            resumeFrom.RestoreRng();
            progress = resumeFrom.Progress;
            hooks.OnResume?.Invoke(progress.Step);
        }
        else
        {
            if (initial is not null)
            {
                try { initial.Model.LoadWeightsInto(model); }
                catch (CheckpointException e) { throw new SettingsException($"init_from: {s.Objective.Sequence.InitFrom} does not fit the model these settings describe ({e.Message}); use the model sizes it was trained with."); }
            }
            AtomicFile.WriteAllBytes(Path.Combine(RunFolder, "settings.json"), System.Text.Encoding.UTF8.GetBytes(Training.Settings.ToJson(s)));
        }

        using var log = new MetricsLog(RunFolder, progress.Step);
        var devItems = EvaluationItem.Group(data.Dev);
        if (s.Loop.EvalItems > 0) devItems = devItems.Take(s.Loop.EvalItems).ToList();
        var plan = Batching.EpochPlan(data.Train, s.Loop.BatchSize, EpochRandom(progress.Epoch));
        var clock = Stopwatch.StartNew();
        double secondsBefore = progress.TrainingSeconds, intervalLoss = progress.IntervalLoss, intervalSecondsBefore = progress.IntervalSeconds, lastLoss = double.NaN, lastGradNorm = 0;
        int intervalSteps = progress.IntervalSteps;
        long intervalTokens = progress.IntervalTokens;
        var intervalClock = Stopwatch.StartNew();
        DevReport? last = null, best = progress.Best;
        RunStatus status = RunStatus.Done;
        string? reason = null;
        string patienceReason = $"no better dev error in {s.Loop.Patience} evaluations";
        // resumed from the checkpoint of the evaluation that used up the patience (the process ended before the store marked
        // the run done): it stops there, as it did, rather than train one more interval and look again
        if (s.Loop.OutOfPatience(progress.EvaluationsWithoutImprovement)) (status, reason) = (RunStatus.EarlyStopped, patienceReason);

        model.train();
        while (status == RunStatus.Done && progress.Step < s.Loop.MaxSteps)
        {
            if (cancel.IsCancellationRequested) { status = RunStatus.Interrupted; reason = "interrupted; resume with --resume"; break; }
            if (progress.BatchInEpoch >= plan.Count)
            {
                progress = progress with { Epoch = progress.Epoch + 1, BatchInEpoch = 0 };
                plan = Batching.EpochPlan(data.Train, s.Loop.BatchSize, EpochRandom(progress.Epoch));
            }
            long step = progress.Step + 1;
            double lr = schedule.At(step), loss, gradNorm;
            using (var scope = NewDisposeScope())
            {
                using var batch = Batching.Make(data.Train, plan[progress.BatchInEpoch], data.SourceVocabulary, data.TargetVocabulary, device, copy);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                optimizer.zero_grad();
                var lossTensor = trainable.Loss(batch, step);
                lossTensor.backward();
                loss = lossTensor.item<float>();
                gradNorm = torch.nn.utils.clip_grad_norm_(parameters, s.Optimiser.ClipNorm);
                hooks.AfterBackward?.Invoke(new StepContext(model, step, loss, lr));
                var divergence = Divergence(loss, gradNorm, step, ref progress);
                if (divergence is not null) { status = RunStatus.Diverged; reason = divergence; break; }
                optimizer.step();
                intervalTokens += batch.TargetTokens;
                progress = progress with { Step = step, BatchInEpoch = progress.BatchInEpoch + 1, TokensSeen = progress.TokensSeen + batch.TargetTokens };
            }
            intervalLoss += loss;
            intervalSteps++;
            (lastLoss, lastGradNorm) = (loss, gradNorm);

            if (s.Loop.LogsAt(step))
            {
                var report = new StepReport(step, s.Loop.MaxSteps, progress.Epoch, intervalLoss / intervalSteps, lr, gradNorm,
                    intervalTokens / (intervalSecondsBefore + intervalClock.Elapsed.TotalSeconds), TimeSpan.FromSeconds(secondsBefore + clock.Elapsed.TotalSeconds));
                log.Step(report);
                hooks.OnLog?.Invoke(report);
                (intervalLoss, intervalSteps, intervalTokens, intervalSecondsBefore) = (0, 0, 0, 0);
                intervalClock.Restart();
            }

            if (s.Loop.EvaluatesAt(step))
            {
                last = Evaluate(trainable, devItems, device, step, progress.BestDevError);
                if (last.Best)
                {
                    progress = progress with { BestDevError = last.SequenceError, BestStep = step, EvaluationsWithoutImprovement = 0, Best = last };
                    best = last;
                }
                else progress = progress with { EvaluationsWithoutImprovement = progress.EvaluationsWithoutImprovement + 1 };
                log.Dev(last);
                hooks.OnEvaluation?.Invoke(last);
                hooks.InspectModel?.Invoke(last, model);
                progress = progress with
                {
                    TrainingSeconds = secondsBefore + clock.Elapsed.TotalSeconds, IntervalLoss = intervalLoss, IntervalSteps = intervalSteps,
                    IntervalTokens = intervalTokens, IntervalSeconds = intervalSecondsBefore + intervalClock.Elapsed.TotalSeconds,
                };
                var checkpoint = Checkpoint.Capture(s, data, progress, model, optimizer);
                if (last.Best) checkpoint.Save(BestCheckpoint);
                checkpoint.Save(LastCheckpoint);
                model.train();
                if (s.Loop.OutOfPatience(progress.EvaluationsWithoutImprovement))
                {
                    (status, reason) = (RunStatus.EarlyStopped, patienceReason);
                    break;
                }
            }
        }

        progress = progress with
        {
            TrainingSeconds = secondsBefore + clock.Elapsed.TotalSeconds, IntervalLoss = intervalLoss, IntervalSteps = intervalSteps,
            IntervalTokens = intervalTokens, IntervalSeconds = intervalSecondsBefore + intervalClock.Elapsed.TotalSeconds,
        };
        if (status == RunStatus.Interrupted) Checkpoint.Capture(s, data, progress, model, optimizer).Save(LastCheckpoint);
        var summary = new TrainingSummary
        {
            Status = status, Reason = reason, Steps = progress.Step, BestStep = progress.BestStep,
            Best = best ?? ReadBest() ?? LoggedEvaluation(progress.BestStep), Last = last, Parameters = parameters.Sum(p => p.numel()),
            TokensSeen = progress.TokensSeen, TrainingSeconds = progress.TrainingSeconds,
        };
        AtomicFile.WriteAllBytes(SummaryPath, JsonSerializer.SerializeToUtf8Bytes(summary, SummaryJson));
        return summary;
    }

    /// <summary>
    /// Fine-tuning: the checkpoint whose model weights the run starts from (<paramref name="path"/> relative to the
    /// workspace, or absolute). It must hold the same architecture trained on the same data; its optimiser state and
    /// progress are not taken.
    /// </summary>
    Checkpoint InitialWeights(string path)
    {
        var full = Path.GetFullPath(Path.Combine(Workspace.FindRoot() ?? Environment.CurrentDirectory, path));
        Checkpoint checkpoint;
        try { checkpoint = Checkpoint.Load(full); }
        catch (CheckpointException e) { throw new SettingsException($"init_from: {e.Message}"); }
        if (!checkpoint.HasVocabulariesOf(data))
            throw new SettingsException($"init_from: {path} was trained on other data (its vocabularies differ from {data.Name}'s); start from a checkpoint of the same task and data settings.");
        if (checkpoint.Settings.Model.Architecture != Settings.Model.Architecture)
            throw new SettingsException($"init_from: {path} holds a {checkpoint.Settings.Model.Architecture.ToString().ToLowerInvariant()} model, these settings train {Settings.Model.Architecture.ToString().ToLowerInvariant()}; set architecture to match.");
        return checkpoint;
    }

    /// <summary>Why the run has diverged, or null. Updates the smoothed loss in <paramref name="progress"/>.</summary>
    string? Divergence(double loss, double gradNorm, long step, ref TrainingProgress progress)
    {
        if (!double.IsFinite(loss)) return $"loss is {loss} at step {step}";
        if (!double.IsFinite(gradNorm)) return $"gradient norm is {gradNorm} at step {step}";
        // a growth rule needs a loss with a scale: MRT's risk lies in [0, 1] and REINFORCE's surrogate is centred on 0
        if (Settings.Objective.Sequence.Objective != TrainingObjective.Mle) return null;
        const double beta = 0.98;
        var average = beta * progress.LossAverage + (1 - beta) * loss;
        var smoothed = average / (1 - Math.Pow(beta, step)); // bias-corrected, as Adam does
        var lowest = step > 100 ? Math.Min(progress.LowestSmoothedLoss, smoothed) : progress.LowestSmoothedLoss;
        progress = progress with { LossAverage = average, LowestSmoothedLoss = lowest };
        var chance = Math.Log(data.TargetVocabulary.Count); // a uniform guess's loss
        return step > 100 && Settings.Loop.Diverged(smoothed, lowest, chance)
            ? $"smoothed loss {smoothed:F3} exceeds {Settings.Loop.DivergenceFactor}× its lowest value {lowest:F3}, more than half of the way back to a uniform guess's {chance:F3}, at step {step}"
            : null;
    }

    DevReport Evaluate(TrainableModel model, IReadOnlyList<EvaluationItem> items, Device device, long step, double bestSoFar)
    {
        var (loss, accuracy) = model.GoldContextReadings(data, data.Dev, device);
        var (metrics, _) = Evaluator.Decode(model.DecodeGreedy, items, data.SourceVocabulary, data.TargetVocabulary, device, copy);
        // The selection rule: best = strictly lower dev sequence error than every earlier evaluation, so on a tie the earlier
        // checkpoint stays best (the first step that reached the score; a run that never improves is chosen at its first
        // evaluation). Tested in TrainerTests; changing it would change which checkpoint every stored run reports.
        return new DevReport(step, loss, accuracy, metrics.SequenceErrorRate, metrics.SymbolErrorRate, metrics.ExactMatch, metrics.SequenceErrorRate < bestSoFar);
    }

    Random EpochRandom(int epoch) => new(unchecked(Settings.Seed * 1_000_003 + epoch));

    Checkpoint LoadForResume()
    {
        if (!File.Exists(LastCheckpoint))
            throw new CheckpointException($"Nothing to resume: {LastCheckpoint} does not exist. Run without --resume to start.");
        var checkpoint = Checkpoint.Load(LastCheckpoint);
        // What may change on resume is taken from the checkpoint; anything else that differs would change what a step computes.
        var comparable = ResumableChanges(checkpoint.Settings);
        var mine = Training.Settings.Describe(comparable).ToDictionary(x => x.Key, x => x.Value);
        var differing = Training.Settings.Describe(checkpoint.Settings)
            .Where(x => mine[x.Key] != x.Value)
            .Select(x => $"{x.Key} (checkpoint {x.Value}, now {mine[x.Key]})").ToList();
        if (differing.Count > 0)
            throw new CheckpointException($"{LastCheckpoint} was trained with other settings: {string.Join(", ", differing)}. Resume with the run's own settings (its settings.json), or start a new --out.");
        if (!checkpoint.HasVocabulariesOf(data))
            throw new CheckpointException($"{LastCheckpoint} has other vocabularies than the data now loaded; the data changed since the run started.");
        return checkpoint;
    }

    /// <summary>
    /// These settings with the checkpoint's values for what may change when resuming, because it does not change what a
    /// step computes: how long to train (unless the cosine schedule's shape depends on it), how often to evaluate and log,
    /// where to run. Any other difference from the checkpoint is a different run.
    /// </summary>
    TrainingSettings ResumableChanges(TrainingSettings checkpoint) => Settings with
    {
        Loop = Settings.Loop with
        {
            MaxSteps = Settings.Optimiser.Schedule == LearningRateScheduleKind.Cosine ? Settings.Loop.MaxSteps : checkpoint.Loop.MaxSteps,
            EvalEvery = checkpoint.Loop.EvalEvery, EvalItems = checkpoint.Loop.EvalItems, Patience = checkpoint.Loop.Patience, LogEvery = checkpoint.Loop.LogEvery,
        },
        Device = checkpoint.Device, Threads = checkpoint.Threads,
    };

    DevReport? ReadBest() => ReadSummary()?.Best;

    /// <summary>The evaluation at <paramref name="step"/> as dev.csv recorded it (a run resumed after its last evaluation has no other record).</summary>
    DevReport? LoggedEvaluation(long step)
    {
        var row = MetricsLog.Evaluations(RunFolder).LastOrDefault(r => r.Step == step);
        return row is null ? null : new DevReport(step, row.DevLoss, row.DevTokenAccuracy, row.DevSequenceError, row.DevSymbolError, row.DevExactMatch, Best: true);
    }

    TrainingSummary? ReadSummary()
    {
        if (!File.Exists(SummaryPath)) return null;
        try { return JsonSerializer.Deserialize<TrainingSummary>(File.ReadAllText(SummaryPath), SummaryJson); }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Finishes the run in <see cref="RunFolder"/>: returns its summary if it already ended (done, early-stopped or
    /// diverged), resumes it from <see cref="LastCheckpoint"/> if it was interrupted or crashed, or starts it.
    /// </summary>
    public TrainingSummary RunToCompletion(CancellationToken cancel = default)
    {
        if (ReadSummary() is { Status: not RunStatus.Interrupted } finished && File.Exists(BestCheckpoint)) return finished;
        return Run(resume: File.Exists(LastCheckpoint), cancel);
    }

    internal static readonly JsonSerializerOptions SummaryJson = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
