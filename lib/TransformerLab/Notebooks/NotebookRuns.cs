using TransformerLab.Model;
using TransformerLab.Experiments;
using TransformerLab.Reporting;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Notebooks;

/// <summary>
/// Where a notebook finds its runs and where it trains the ones it must train itself. Full sweeps are read from the
/// committed results store (<c>data/runs/</c>, what <c>research sweep</c> writes and experiments.md cites); a notebook's
/// own small runs go to the scratch store: the committed store's folder at the default size (git-ignored there, and
/// reused next time), but a throw-away folder in quick mode, so that smoke runs (the test suite's) never write into
/// <c>data/runs/</c> and always train afresh.
/// </summary>
public static class NotebookRuns
{
    /// <summary>Set by <c>research notebooks --mode quick</c>: a fresh folder per notebook, deleted afterwards.</summary>
    public const string ScratchVariable = "TRANSFORMER_LAB_SCRATCH_RUNS";

    /// <summary>The committed results store of the workspace the notebook runs in.</summary>
    public static ResultsStore Committed => ResultsStore.Default(Workspace.Root());

    /// <summary>Where the notebook's own runs go (see the class summary).</summary>
    public static ResultsStore Scratch => Environment.GetEnvironmentVariable(ScratchVariable) is { Length: > 0 } folder
        ? new ResultsStore(folder)
        : NotebookMode.Size == NotebookSize.Quick
            ? new ResultsStore(Path.Combine(Path.GetTempPath(), "transformer-lab-quick-runs"))
            : Committed;

    /// <summary>
    /// The full sweep from the committed store if every run of it is finished there; otherwise <paramref name="otherwise"/>,
    /// trained in the scratch store where missing. <c>Full</c> says which the notebook shows.
    /// </summary>
    public static (IReadOnlyList<RunRecord> Runs, bool Full) LoadOrTrain(IReadOnlyList<RunSpec> full, IReadOnlyList<RunSpec> otherwise) =>
        Sweep.LoadOrRun(Committed, full, otherwise, Scratch);

    /// <summary>The plan's runs: from the committed store if it holds them all finished, else trained in the scratch store.</summary>
    public static IReadOnlyList<RunRecord> Ensure(IReadOnlyList<RunSpec> plan) => LoadOrTrain(plan, plan).Runs;

    /// <summary>Whatever part of a large sweep the committed store holds finished, training nothing.</summary>
    public static IReadOnlyList<RunRecord> Finished(IReadOnlyList<RunSpec> plan) => Sweep.Finished(Committed, plan);

    /// <summary>
    /// Notebook 09's comparison: each architecture's runs of the full sweeps (<see cref="ExperimentsTables.ArchitectureSweeps"/>)
    /// if the committed store holds them all, else one seed each of <paramref name="small"/> with the architecture changed.
    /// </summary>
    public static (IReadOnlyList<(string Name, IReadOnlyList<RunRecord> Runs)> Variants, bool Full) Architectures(
        IReadOnlyList<ArchitectureVariant> sweeps, TrainingSettings small)
    {
        var train = ExperimentRegistry.Get<TrainingSettings>("train");
        var (runs, full) = LoadOrTrain([.. sweeps.SelectMany(a => a.Sweep.Plan())], Sweep.Plan(train, sweeps.Select(a => small.WithArchitecture(a.Kind)), 1));
        return (sweeps.Select(a => (a.Name, (IReadOnlyList<RunRecord>)runs.Where(r => r.TrainingSettings().Model.Architecture == a.Kind).OrderBy(r => r.Seed).ToList())).ToList(), full);
    }
}
