using TransformerLab.Runtime;

namespace TransformerLab.Training;

/// <summary>One row of a run's steps.csv: a logged step, its loss averaged over the steps since the previous row.</summary>
public sealed record LoggedStep(long Step, int Epoch, double Loss, double Lr, double GradNorm, double TokensPerSecond, double ElapsedSeconds);

/// <summary>One row of a run's dev.csv: a dev evaluation (<see cref="DevReport"/>'s readings).</summary>
public sealed record LoggedEvaluation(long Step, double DevLoss, double DevTokenAccuracy, double DevSequenceError, double DevSymbolError, double DevExactMatch);

/// <summary>
/// Per-step and per-evaluation metrics of a run: steps.csv and dev.csv as typed rows through <see cref="Csv"/> (each
/// rewritten whole and atomically at every row, so a crash leaves no half line), and TensorBoard event files.
/// </summary>
sealed class MetricsLog : IDisposable
{
    readonly string stepsPath, devPath;
    readonly List<LoggedStep> steps;
    readonly List<LoggedEvaluation> evaluations;
    readonly TensorBoardEventFile tensorboard;

    /// <summary>Opens the logs; on resume, drops rows after <paramref name="resumedStep"/> (they belong to the lost part of the run).</summary>
    public MetricsLog(string folder, long resumedStep)
    {
        (stepsPath, devPath) = (Path.Combine(folder, "steps.csv"), Path.Combine(folder, "dev.csv"));
        // a fresh run starts empty whatever the folder held (train --force into another folder); a resume keeps its own rows
        steps = resumedStep == 0 ? [] : [.. Steps(folder).Where(r => r.Step <= resumedStep)];
        evaluations = resumedStep == 0 ? [] : [.. Evaluations(folder).Where(r => r.Step <= resumedStep)];
        Csv.WriteRows(stepsPath, steps);
        Csv.WriteRows(devPath, evaluations);
        tensorboard = new TensorBoardEventFile(Path.Combine(folder, "tensorboard"));
    }

    /// <summary>The run's steps.csv (none if there is no file).</summary>
    public static IReadOnlyList<LoggedStep> Steps(string folder) => Csv.ReadRows<LoggedStep>(Path.Combine(folder, "steps.csv"));

    /// <summary>The run's dev.csv (none if there is no file).</summary>
    public static IReadOnlyList<LoggedEvaluation> Evaluations(string folder) => Csv.ReadRows<LoggedEvaluation>(Path.Combine(folder, "dev.csv"));

    public void Step(StepReport r)
    {
        steps.Add(new LoggedStep(r.Step, r.Epoch, r.Loss, r.LearningRate, r.GradientNorm, r.TokensPerSecond, r.Elapsed.TotalSeconds));
        Csv.WriteRows(stepsPath, steps);
        tensorboard.Scalar("train/loss", r.Loss, r.Step);
        tensorboard.Scalar("train/lr", r.LearningRate, r.Step);
        tensorboard.Scalar("train/grad_norm", r.GradientNorm, r.Step);
        tensorboard.Scalar("train/tokens_per_second", r.TokensPerSecond, r.Step);
    }

    public void Dev(DevReport r)
    {
        evaluations.Add(new LoggedEvaluation(r.Step, r.Loss, r.TokenAccuracy, r.SequenceError, r.SymbolError, r.ExactMatch));
        Csv.WriteRows(devPath, evaluations);
        tensorboard.Scalar("dev/loss", r.Loss, r.Step);
        tensorboard.Scalar("dev/token_accuracy", r.TokenAccuracy, r.Step);
        tensorboard.Scalar("dev/sequence_error", r.SequenceError, r.Step);
        tensorboard.Scalar("dev/symbol_error", r.SymbolError, r.Step);
    }

    public void Dispose() => tensorboard.Dispose();
}
