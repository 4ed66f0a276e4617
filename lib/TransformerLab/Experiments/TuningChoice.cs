namespace TransformerLab.Experiments;

/// <summary>
/// Choosing a setting on dev, the way the review reruns choose each arm's learning rate and warm-up (issue 36): only once
/// every setting of the grid has finished (a choice among the first few to finish would favour the fast ones), the run
/// with the lowest best dev error among those that did not diverge; a tie goes to the one that reached it in fewer steps,
/// and a tie in both to the lower dev loss at that step — a continuous reading, so the choice never falls to the order in
/// which the store lists the runs (a dev set of 500 sequences measures the error in steps of 0.2 %, so ties happen).
/// </summary>
public static class TuningChoice
{
    /// <param name="runs">the finished runs of one arm, one per setting.</param>
    /// <param name="settings">how many settings the grid has.</param>
    /// <returns>the chosen run, or null while a setting is unfinished or when every run diverged.</returns>
    /// <param name="devLossAtBest">the dev loss at the best step.</param>
    public static T? Choose<T>(IReadOnlyList<T> runs, int settings, Func<T, bool> diverged, Func<T, double> bestDevError, Func<T, double> bestStep,
        Func<T, double> devLossAtBest) where T : class =>
        runs.Count < settings ? null
        : runs.Where(r => !diverged(r) && !double.IsNaN(bestDevError(r))).OrderBy(bestDevError).ThenBy(bestStep)
            .ThenBy(r => double.IsNaN(devLossAtBest(r)) ? double.PositiveInfinity : devLossAtBest(r)).FirstOrDefault(); // NaN would sort first
}
