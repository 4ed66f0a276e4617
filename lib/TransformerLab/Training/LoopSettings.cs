namespace TransformerLab.Training;

/// <summary>How long the training loop runs and how often it looks: batch size, steps, dev evaluations, logging, and when it stops early.</summary>
public sealed record LoopSettings
{
    /// <summary>Sentences per batch.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Optimiser steps in all.</summary>
    public int MaxSteps { get; init; } = 9_000;
    /// <summary>Evaluate on dev (loss + greedy decoding) every this many steps, and at the end.</summary>
    public int EvalEvery { get; init; } = 1000;
    /// <summary>Dev items to decode at each evaluation; 0 = all.</summary>
    public int EvalItems { get; init; }
    /// <summary>Stop after this many evaluations without a better dev error; 0 = never.</summary>
    public int Patience { get; init; }
    /// <summary>Write a steps.csv row (and a TensorBoard point) every this many steps.</summary>
    public int LogEvery { get; init; } = 50;
    /// <summary>Diverged when the smoothed loss exceeds this multiple of its lowest value and has given back half of what it learned (<see cref="Diverged"/>), or is not finite; with objective mrt or reinforce only a non-finite loss or gradient counts.</summary>
    public double DivergenceFactor { get; init; } = 4.0;

    /// <summary>
    /// The growth rule: the smoothed training loss is above <see cref="DivergenceFactor"/> × its lowest value <b>and</b> has
    /// climbed back more than half of the way from that lowest value to a uniform guess's loss, <paramref name="chance"/>
    /// = ln(target vocabulary). The second half keeps a spike near zero loss from ending a run that is still learning (an
    /// LSTM at 0.2 % dev sequence error went from 0.011 to 0.061, 5.5×, and was stopped as diverged when the factor alone
    /// decided); a loss that heads back towards chance still counts, and so does any run that never got below half of chance.
    /// </summary>
    public bool Diverged(double smoothed, double lowest, double chance) =>
        smoothed > DivergenceFactor * lowest && smoothed - lowest > 0.5 * (chance - lowest);

    /// <summary>Whether the patience rule ends the run after <paramref name="evaluationsWithoutImprovement"/> evaluations without a better dev error.</summary>
    public bool OutOfPatience(int evaluationsWithoutImprovement) => Patience > 0 && evaluationsWithoutImprovement >= Patience;

    /// <summary>Whether step <paramref name="step"/> evaluates on dev (every eval_every steps, and the last).</summary>
    public bool EvaluatesAt(long step) => step % EvalEvery == 0 || step == MaxSteps;

    /// <summary>Whether step <paramref name="step"/> writes a steps.csv row (every log_every steps, and the last).</summary>
    public bool LogsAt(long step) => step % LogEvery == 0 || step == MaxSteps;

    /// <summary>Every problem with these settings, one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (BatchSize < 1) yield return $"batch_size must be ≥ 1 (got {BatchSize}).";
        if (BatchSize > 1_000_000) yield return $"batch_size must be at most 1,000,000 (got {BatchSize}).";
        if (MaxSteps < 1) yield return $"max_steps must be ≥ 1 (got {MaxSteps}).";
        if (EvalEvery < 1) yield return $"eval_every must be ≥ 1 (got {EvalEvery}).";
        if (LogEvery < 1) yield return $"log_every must be ≥ 1 (got {LogEvery}).";
        if (DivergenceFactor <= 1) yield return $"divergence_factor must be > 1 (got {DivergenceFactor}).";
    }

    /// <summary>Valid but almost certainly not meant.</summary>
    public IEnumerable<string> Warnings()
    {
        if (EvalEvery > MaxSteps && MaxSteps > 0 && Patience > 0)
            yield return $"eval_every ({EvalEvery}) > max_steps ({MaxSteps}): only the final evaluation runs, so patience ({Patience}) never stops early.";
    }
}
