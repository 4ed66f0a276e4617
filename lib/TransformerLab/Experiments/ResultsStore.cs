using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransformerLab.NativeFix;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

public enum RunState { Pending, Running, Done, Failed, Diverged }

/// <summary>One run of a sweep: an experiment, a fully resolved configuration and a seed.</summary>
public sealed record RunSpec(Experiment Experiment, object Config, int Seed)
{
    /// <summary>The resolved configuration as key → value text (every key, not just the ones a grid changed).</summary>
    public IReadOnlyList<(string Key, string Value)> Values => Settings.Describe(Config).Select(x => (x.Key, x.Value)).ToList();

    /// <summary>
    /// The run's identity: SHA-256 of (experiment, its version, seed, and every config value that differs from the
    /// experiment's defaults), 12 hex digits. Same inputs, same key, so a rerun finds the finished run; any change, a
    /// new run. Hashing only what differs from the defaults lets a new setting, whose default keeps the old behaviour,
    /// leave every stored run findable; changing a default must therefore bump <see cref="Experiment.Version"/>.
    /// </summary>
    public string Key
    {
        get
        {
            var defaults = Settings.Describe(Experiment.Defaults).ToDictionary(d => d.Key, d => d.Value);
            var text = new StringBuilder($"{Experiment.Name}\nversion={Experiment.Version}\nseed={Seed}\n");
            foreach (var (key, value) in Values.Where(v => v.Key != "seed" && defaults.GetValueOrDefault(v.Key) != v.Value).OrderBy(v => v.Key, StringComparer.Ordinal))
                text.Append(key).Append('=').Append(value).Append('\n');
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
        }
    }
}

/// <summary>A run as found in the store.</summary>
public sealed record RunRecord(string Experiment, string Key, string Folder, int Seed, IReadOnlyDictionary<string, string> Config,
    RunState State, IReadOnlyDictionary<string, double> Metrics, string? Reason, double Seconds)
{
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Curve() => Csv.Read(Path.Combine(Folder, "curve.csv"));

    /// <summary>The run's configuration as its typed record (e.g. <c>run.ConfigAs&lt;TrainingSettings&gt;().Model.Heads</c>), not as text.</summary>
    public TConfig ConfigAs<TConfig>() where TConfig : class =>
        Settings.With(ExperimentRegistry.Get<TConfig>(Experiment).DefaultConfig, Config);

    /// <summary>A table the experiment wrote into the run folder (e.g. <c>by_position.csv</c>); empty if absent.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Table(string file) => Csv.Read(Path.Combine(Folder, file));
}

/// <summary>
/// Results on disk, no server: <c>root/experiment/key/</c> per run, holding config.json, status.json, summary.json
/// (metrics), curve.csv and log.txt, each written atomically. A run is finished when status.json says done or
/// diverged; anything else (failed, or running from a process that died) can be redone. Merging shards from several
/// machines is copying their folders into one root.
/// </summary>
public sealed class ResultsStore(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The default store: data/runs/ in the workspace (git-ignored except runs experiments.md cites).</summary>
    public static ResultsStore Default(string workspaceRoot) => new(Path.Combine(workspaceRoot, "data", "runs"));

    public string FolderOf(RunSpec spec) => Path.Combine(Root, spec.Experiment.Name, spec.Key);

    /// <summary>The recorded state of a run; a run marked running whose process is gone counts as failed.</summary>
    public RunState StateOf(RunSpec spec)
    {
        var status = ReadJson(Path.Combine(FolderOf(spec), "status.json"));
        if (status is null) return RunState.Pending;
        var state = Enum.Parse<RunState>((string)status["state"]!, ignoreCase: true);
        if (state == RunState.Running && !IsAlive(status)) return RunState.Failed;
        return state;
    }

    /// <summary>Why the run ended as it did (its status.json's reason), or null.</summary>
    public string? ReasonOf(RunSpec spec) =>
        ReadJson(Path.Combine(FolderOf(spec), "status.json")) is { } status
            ? (string?)status["reason"] ?? (StateOf(spec) == RunState.Failed ? "its process ended before the run finished" : null)
            : null;

    /// <summary>Creates the run's folder and writes its config.json (experiment, version, seed, every setting): all a process needs to run it.</summary>
    public string Prepare(RunSpec spec)
    {
        var folder = FolderOf(spec);
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["experiment"] = spec.Experiment.Name, ["version"] = spec.Experiment.Version, ["seed"] = spec.Seed,
            ["config"] = JsonNode.Parse(Settings.ToJson(spec.Config)),
        };
        Write(Path.Combine(folder, "config.json"), config.ToJsonString(Indented));
        return folder;
    }

    /// <summary>
    /// The run a prepared folder of this store holds, read back from its config.json — how a parallel sweep's child
    /// process (or a cluster task) is handed its run.
    /// </summary>
    /// <exception cref="InvalidDataException">the folder holds no config.json, names an unknown experiment or version, or its settings give another key.</exception>
    public RunSpec SpecAt(string folder)
    {
        var config = ReadJson(Path.Combine(folder, "config.json")) ?? throw new InvalidDataException($"{folder} holds no readable config.json.");
        var experiment = ExperimentRegistry.TryGet((string?)config["experiment"] ?? "") ?? throw new InvalidDataException($"{folder}: unknown experiment '{config["experiment"]}'.");
        if ((int?)config["version"] != experiment.Version) throw new InvalidDataException($"{folder} is a run of {experiment.Name} version {config["version"]}; this build runs version {experiment.Version}.");
        var spec = new RunSpec(experiment, Settings.With(experiment.Defaults, Settings.Assignments(config["config"]!.AsObject())), (int)config["seed"]!);
        if (FolderOf(spec) != Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar))
            throw new InvalidDataException($"{folder}: its settings give run key {spec.Key}, not the folder's name; it was written by another version of the code.");
        return spec;
    }

    /// <summary>Runs one spec here and records it: status running → the experiment → summary, curve, status done/diverged/failed.</summary>
    public RunState Execute(RunSpec spec, int threads, CancellationToken cancel = default)
    {
        var folder = Prepare(spec);
        foreach (var stale in new[] { "summary.json", "curve.csv" }) File.Delete(Path.Combine(folder, stale));
        var started = DateTime.UtcNow;
        WriteStatus(folder, RunState.Running, started, null);
        using var log = new StreamWriter(Path.Combine(folder, "log.txt"), append: true) { AutoFlush = true };
        log.WriteLine($"[{started:O}] {spec.Experiment.Name} {spec.Key} seed {spec.Seed} on {Environment.MachineName}");
        try
        {
            var result = spec.Experiment.Run(spec.Config, spec.Seed, new RunContext(folder, log, cancel, threads));
            Csv.Write(Path.Combine(folder, "curve.csv"), result.Curve);
            var summary = new JsonObject { ["metrics"] = new JsonObject(result.Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))) };
            Write(Path.Combine(folder, "summary.json"), summary.ToJsonString(Indented));
            var state = result.Diverged ? RunState.Diverged : RunState.Done;
            WriteStatus(folder, state, started, result.Reason);
            log.WriteLine($"[{DateTime.UtcNow:O}] {state.ToString().ToLowerInvariant()}{(result.Reason is null ? "" : ": " + result.Reason)}");
            return state;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // stopped by the user, not broken: leave it pending so the next sweep simply runs it
            File.Delete(Path.Combine(folder, "status.json"));
            log.WriteLine($"[{DateTime.UtcNow:O}] interrupted");
            throw;
        }
        catch (Exception e)
        {
            WriteStatus(folder, RunState.Failed, started, $"{e.GetType().Name}: {e.Message}");
            log.WriteLine($"[{DateTime.UtcNow:O}] failed: {e}");
            return RunState.Failed;
        }
    }

    /// <summary>Every run of <paramref name="experiment"/> in the store (all states).</summary>
    public IReadOnlyList<RunRecord> Load(string experiment)
    {
        var folder = Path.Combine(Root, experiment);
        if (!Directory.Exists(folder)) return [];
        // Keys added to the experiment after a run was stored read as their default, which reproduces the old behaviour.
        var defaults = ExperimentRegistry.TryGet(experiment) is { } known
            ? Settings.Describe(known.Defaults).ToDictionary(d => d.Key, d => d.Value) : [];
        var records = new List<RunRecord>();
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var config = ReadJson(Path.Combine(dir, "config.json"));
            var status = ReadJson(Path.Combine(dir, "status.json"));
            if (config is null || status is null) continue;
            var state = Enum.Parse<RunState>((string)status["state"]!, ignoreCase: true);
            if (state == RunState.Running && !IsAlive(status)) state = RunState.Failed;
            var metrics = ReadJson(Path.Combine(dir, "summary.json"))?["metrics"]?.AsObject()
                .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()) ?? [];
            var values = new Dictionary<string, string>(defaults);
            foreach (var (key, value) in Settings.Assignments(config["config"]!.AsObject())) values[key] = value;
            records.Add(new RunRecord(experiment, Path.GetFileName(dir), dir, (int)config["seed"]!, values,
                state, metrics, (string?)status["reason"], (double?)status["seconds"] ?? 0));
        }
        return records;
    }

    /// <summary>
    /// Renames run folders of <paramref name="experiment"/> whose name is not the key their config.json gives under
    /// the current key scheme (after an upgrade that changed how keys are computed). Folders of another version, and
    /// folders whose new name is taken, stay where they are. Returns (old, new) for each move.
    /// </summary>
    public IReadOnlyList<(string From, string To)> Rekey(Experiment experiment)
    {
        var moves = new List<(string, string)>();
        var folder = Path.Combine(Root, experiment.Name);
        if (!Directory.Exists(folder)) return moves;
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var config = ReadJson(Path.Combine(dir, "config.json"));
            if (config is null || (int?)config["version"] != experiment.Version) continue;
            var values = Settings.Assignments(config["config"]!.AsObject());
            var spec = new RunSpec(experiment, Settings.With(experiment.Defaults, values), (int)config["seed"]!);
            var target = FolderOf(spec);
            if (target == dir || Directory.Exists(target)) continue;
            Directory.Move(dir, target);
            moves.Add((Path.GetFileName(dir), spec.Key));
        }
        return moves;
    }

    /// <summary>
    /// Rewrites the tables of every finished run of <paramref name="experiment"/> that an older build wrote in another layout
    /// (<see cref="Experiment.Upgrade"/>); returns the run keys it changed. Results are never recomputed.
    /// </summary>
    public IReadOnlyList<string> Upgrade(Experiment experiment) =>
        Load(experiment.Name).Where(r => r.State is RunState.Done or RunState.Diverged && experiment.Upgrade(r.Folder)).Select(r => r.Key).ToList();

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    static void Write(string path, string text) => AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    static void WriteStatus(string folder, RunState state, DateTime started, string? reason) =>
        Write(Path.Combine(folder, "status.json"), new JsonObject
        {
            ["state"] = state.ToString().ToLowerInvariant(), ["reason"] = reason,
            ["started_utc"] = started.ToString("O"), ["seconds"] = (DateTime.UtcNow - started).TotalSeconds,
            ["host"] = Environment.MachineName, ["pid"] = Environment.ProcessId,
        }.ToJsonString(Indented));

    static bool IsAlive(JsonObject status)
    {
        if ((string?)status["host"] != Environment.MachineName) return true; // another machine's run: trust it
        try { return !System.Diagnostics.Process.GetProcessById((int)status["pid"]!).HasExited; }
        catch (ArgumentException) { return false; }
    }

    static JsonObject? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject; }
        catch (JsonException) { return null; }
    }
}
