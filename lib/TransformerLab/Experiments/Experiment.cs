using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// An experiment: a name, the question it answers, a typed configuration with defaults, and a function that runs
/// one configuration with one seed and returns its metrics. Sweeps run it over grids of configurations and seeds.
/// </summary>
public abstract class Experiment
{
    public abstract string Name { get; }
    /// <summary>One line: what the experiment finds out.</summary>
    public abstract string Question { get; }
    /// <summary>
    /// Part of every run's key: bump it when a change to the code changes what a run computes, so old results are
    /// not mistaken for new ones (they stay on disk under their old keys).
    /// </summary>
    public virtual int Version => 1;
    /// <summary>The configuration record with every default; its properties are the keys of --set and --grid.</summary>
    public abstract object Defaults { get; }
    /// <summary>Runs one configuration with one seed. Throwing marks the run failed; a diverged training run is a result.</summary>
    public abstract RunResult Run(object config, int seed, RunContext context);

    /// <summary>
    /// The tables (besides curve.csv) every finished run of this experiment writes into its folder: a done run without one
    /// of them, or with one that does not parse, is damaged and is redone rather than reported.
    /// </summary>
    public virtual IReadOnlyList<string> Tables => [];

    /// <summary>Checks a configuration before any run starts, so a bad grid fails at once; throws <see cref="SettingsException"/>.</summary>
    public virtual void Validate(object config) { }

    /// <summary>
    /// Rewrites the tables of a stored run that an older build wrote in another layout (e.g. a category stored as an index);
    /// true if something changed. Called by <c>research sweep &lt;experiment&gt; --rekey</c>; never changes a result.
    /// </summary>
    public virtual bool Upgrade(string folder) => false;
}

/// <summary>An experiment whose configuration is the record <typeparamref name="TConfig"/>.</summary>
public abstract class Experiment<TConfig> : Experiment where TConfig : class
{
    public abstract TConfig DefaultConfig { get; }
    public sealed override object Defaults => DefaultConfig;
    public sealed override RunResult Run(object config, int seed, RunContext context) => Run((TConfig)config, seed, context);
    public abstract RunResult Run(TConfig config, int seed, RunContext context);
}

/// <summary>What a run may use: its own folder (for checkpoints and logs), a log, a cancellation token, a thread budget.</summary>
public sealed record RunContext(string Folder, TextWriter Log, CancellationToken Cancel, int Threads);

/// <summary>A run's outcome: final scalars, per-step curves (each row one step's named values), and whether it diverged.</summary>
public sealed record RunResult(IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<IReadOnlyDictionary<string, double>> Curve, bool Diverged = false, string? Reason = null);

/// <summary>The experiments <c>research sweep</c> knows, by name.</summary>
public static class ExperimentRegistry
{
    static readonly Dictionary<string, Experiment> experiments = new(StringComparer.Ordinal);

    static ExperimentRegistry()
    {
        Register(new TrainingExperiment());
        Register(new LayerNormPlacementExperiment());
        Register(new ExposureBiasExperiment());
        Register(new ScheduledSamplingExperiment());
        Register(new AtVsNatExperiment());
        Register(new DecodingExperiment());
        Register(new PrecisionExperiment());
        Register(new HeldOutTestExperiment());
        Register(new SequenceTrainingExperiment());
        Register(new CopyingExperiment());
        Register(new GuidedAttentionExperiment());
    }

    /// <summary>Adds an experiment (later issues' notebooks and tests add theirs); a name can be registered once.</summary>
    public static void Register(Experiment experiment)
    {
        lock (experiments)
            if (!experiments.TryAdd(experiment.Name, experiment) && experiments[experiment.Name].GetType() != experiment.GetType())
                throw new ArgumentException($"An experiment named '{experiment.Name}' is already registered.");
    }

    public static IReadOnlyList<Experiment> All { get { lock (experiments) return experiments.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); } }

    public static Experiment? TryGet(string name) { lock (experiments) return experiments.GetValueOrDefault(name); }

    /// <summary>The experiment with its configuration type, for plans over typed settings (<see cref="Sweep.Plan{TConfig}"/>).</summary>
    /// <exception cref="SettingsException">no such experiment, or its configuration is not a <typeparamref name="TConfig"/>.</exception>
    public static Experiment<TConfig> Get<TConfig>(string name) where TConfig : class =>
        Get(name) as Experiment<TConfig> ?? throw new SettingsException($"Experiment '{name}' is not configured by {typeof(TConfig).Name}.");

    /// <exception cref="SettingsException">no such experiment; the message lists the known ones.</exception>
    public static Experiment Get(string name)
    {
        lock (experiments)
            return experiments.TryGetValue(name, out var e) ? e
                : throw new SettingsException($"Unknown experiment '{name}'. Known experiments: {string.Join(", ", experiments.Keys.Order(StringComparer.Ordinal))} (research sweep --list).");
    }
}
