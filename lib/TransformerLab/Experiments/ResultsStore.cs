using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// Where a run stands in the store. Finished: <see cref="Done"/>, <see cref="Diverged"/> (a result too). Still to do:
/// <see cref="Pending"/>, <see cref="Interrupted"/> (its process stopped or died without an error — the same sweep
/// resumes it), <see cref="Damaged"/> (finished once, but a file it needs is missing or unreadable — the same sweep
/// redoes it). <see cref="Failed"/>: it raised an error, redone only with <c>--retry-failed</c>. <see cref="Running"/>: a
/// live process owns it (<see cref="RunLock"/>).
/// </summary>
public enum RunState { Pending, Running, Done, Failed, Diverged, Interrupted, Damaged }

/// <summary>A run's state and why it is in it (for failed, interrupted and damaged runs).</summary>
public sealed record RunInspection(RunState State, string? Reason)
{
    public bool Finished => State is RunState.Done or RunState.Diverged;
}

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
            var defaults = Identity(Settings.Describe(Experiment.Defaults).Select(d => (d.Key, d.Value))).ToDictionary(d => d.Key, d => d.Value);
            var text = new StringBuilder($"{Experiment.Name}\nversion={Experiment.Version}\nseed={Seed}\n");
            foreach (var (key, value) in Identity(Values).Where(v => v.Key != "seed" && defaults.GetValueOrDefault(v.Key) != v.Value).OrderBy(v => v.Key, StringComparer.Ordinal))
                text.Append(key).Append('=').Append(value).Append('\n');
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
        }
    }

    /// <summary>
    /// The values a key hashes. The encoder attention's parameter is hashed as attention_window, the one name it had for
    /// every kernel before issue 37 split it into attention_window, attention_stride and attention_rank, so stored runs
    /// keep their keys; the parameters the kernel does not read change nothing it computes and are left out.
    /// </summary>
    static IEnumerable<(string Key, string Value)> Identity(IEnumerable<(string Key, string Value)> values)
    {
        var all = values.ToList();
        var kind = all.FirstOrDefault(v => v.Key == "attention").Value;
        if (kind is null) return all;
        var own = TransformerConfig.ParameterKey(kind);
        var r = all.FirstOrDefault(v => v.Key == (own ?? "attention_window")).Value;
        return all.Where(v => v.Key is not ("attention_stride" or "attention_rank")).Select(v => v.Key == "attention_window" ? (v.Key, r) : v);
    }
}

/// <summary>A run as found in the store.</summary>
public sealed record RunRecord(string Experiment, string Key, string Folder, int Seed, IReadOnlyDictionary<string, string> Config,
    RunState State, IReadOnlyDictionary<string, double> Metrics, string? Reason, double Seconds)
{
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Curve() => Csv.Read(Path.Combine(Folder, "curve.csv"));

    /// <summary>The run's configuration as its typed record (e.g. <c>run.ConfigAs&lt;TrainingSettings&gt;().Model.Transformer.Heads</c>), not as text.</summary>
    public TConfig ConfigAs<TConfig>() where TConfig : class =>
        Settings.With(ExperimentRegistry.Get<TConfig>(Experiment).DefaultConfig, Config);

    /// <summary>A table the experiment wrote into the run folder (e.g. <c>by_position.csv</c>); empty if absent.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Table(string file) => Csv.Read(Path.Combine(Folder, file));
}

/// <summary>
/// Results on disk, no server: <c>root/experiment/key/</c> per run, holding config.json, status.json, summary.json
/// (metrics), curve.csv and log.txt, each written atomically, and <c>.lock</c> (<see cref="RunLock"/>): the process that
/// holds it owns the run. A run is finished when status.json says done or diverged and its files read back whole
/// (<see cref="Inspect(RunSpec)"/>); otherwise it is pending, interrupted, damaged or failed (<see cref="RunState"/>).
/// Merging shards from several machines is copying their folders into one root.
/// </summary>
public sealed class ResultsStore(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The default store: data/runs/ in the workspace (git-ignored except runs experiments.md cites).</summary>
    public static ResultsStore Default(string workspaceRoot) => new(Path.Combine(workspaceRoot, "data", "runs"));

    public string FolderOf(RunSpec spec) => Path.Combine(Root, spec.Experiment.Name, spec.Key);

    /// <summary>The run's state, checked: see <see cref="Inspect(RunSpec)"/>.</summary>
    public RunState StateOf(RunSpec spec) => Inspect(spec).State;

    /// <summary>
    /// The run's state and its reason, from its files and its lock: running while a live process holds the lock;
    /// interrupted when status.json says running (or interrupted) and nobody holds it; done or diverged only when every
    /// file such a run needs is there and readable, otherwise damaged, naming the file.
    /// </summary>
    public RunInspection Inspect(RunSpec spec) => Inspect(FolderOf(spec), spec.Experiment);

    RunInspection Inspect(string folder, Experiment? experiment, bool owned = false)
    {
        if (!Directory.Exists(folder)) return new(RunState.Pending, null);
        if (!owned && RunLock.IsHeld(folder)) return new(RunState.Running, "a live process holds its lock");
        var statusPath = Path.Combine(folder, "status.json");
        if (!File.Exists(statusPath)) return new(RunState.Pending, null);
        var (status, statusError) = TryReadJson(statusPath);
        if (status is null) return new(RunState.Damaged, $"status.json is unreadable ({statusError})");
        var text = status["state"] is JsonValue stateValue && stateValue.TryGetValue<string>(out var stateText) ? stateText : null;
        if (text is null || !Enum.TryParse<RunState>(text, ignoreCase: true, out var state) || !Enum.IsDefined(state) || text.Any(char.IsDigit))
            return new(RunState.Damaged, $"status.json has no known state (got '{status["state"]?.ToJsonString() ?? "nothing"}'; known: {string.Join(", ", Enum.GetNames<RunState>().Select(n => n.ToLowerInvariant()))})");
        var reason = status["reason"] is JsonValue reasonValue && reasonValue.TryGetValue<string>(out var reasonText) ? reasonText : null;
        switch (state)
        {
            case RunState.Running or RunState.Interrupted:
                return new(RunState.Interrupted, state == RunState.Interrupted && reason is not null ? reason
                    : $"its process (pid {status["pid"]?.ToJsonString() ?? "?"} on {status["host"]?.ToJsonString() ?? "?"}) ended before the run finished; the same command resumes it");
            case RunState.Done or RunState.Diverged:
                return Damage(folder, experiment, state) is { } damage ? new(RunState.Damaged, damage) : new(state, reason);
            default:
                return new(state, reason);
        }
    }

    /// <summary>What is wrong with a finished run's files, or null: config.json, summary.json (metrics as numbers), curve.csv and the experiment's own tables.</summary>
    static string? Damage(string folder, Experiment? experiment, RunState state)
    {
        var (config, configError) = TryReadJson(Path.Combine(folder, "config.json"));
        if (config is null) return $"config.json is {configError}";
        if (config["config"] is not JsonObject || config["seed"] is not JsonValue seed || !seed.TryGetValue<int>(out _)) return "config.json lacks its settings or seed";
        var (summary, summaryError) = TryReadJson(Path.Combine(folder, "summary.json"));
        if (summary is null) return $"summary.json is {summaryError}";
        if (summary["metrics"] is not JsonObject metrics) return "summary.json has no metrics";
        if (metrics.FirstOrDefault(kv => !IsNumber(kv.Value)) is { Key: not null } bad) return $"summary.json's metric '{bad.Key}' is not a number";
        if (Csv.Problem(Path.Combine(folder, "curve.csv"), mayBeEmpty: true) is { } curve) return $"curve.csv {curve}";
        if (state == RunState.Done && experiment is not null)
            foreach (var table in experiment.Tables)
                if (Csv.Problem(Path.Combine(folder, table)) is { } problem) return $"{table} {problem}";
        return null;
    }

    static bool IsNumber(JsonNode? node) =>
        node is JsonValue value && (value.TryGetValue<double>(out _) || (value.TryGetValue<string>(out var s) && s is "NaN" or "Infinity" or "-Infinity"));

    /// <summary>Why the run ended as it did, or null.</summary>
    public string? ReasonOf(RunSpec spec) => Inspect(spec).Reason;

    /// <summary>Creates the run's folder and writes its config.json (experiment, version, seed, every setting): all a process needs to run it.</summary>
    public string Prepare(RunSpec spec)
    {
        var folder = FolderOf(spec);
        Directory.CreateDirectory(folder);
        if (File.Exists(Path.Combine(folder, "config.json")) && TrySpecAt(folder)?.Key == spec.Key) return folder; // as it is: a finished run's files are never rewritten
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

    RunSpec? TrySpecAt(string folder)
    {
        try { return SpecAt(folder); }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or FormatException or SettingsException or NullReferenceException) { return null; }
    }

    /// <summary>
    /// Runs one spec here and records it: its lock taken → status running → the experiment → summary, curve, status
    /// done/diverged/failed. Returns <see cref="RunState.Running"/> without touching anything when another live process
    /// owns the run, and the run's state when it is already finished (another process may have finished it since it
    /// was planned): a finished run is never rerun, rewritten or downgraded.
    /// </summary>
    public RunState Execute(RunSpec spec, int threads, CancellationToken cancel = default)
    {
        if (RunLock.Unavailable() is { } noLocks) throw new InvalidOperationException(noLocks);
        var folder = FolderOf(spec);
        using var owner = RunLock.TryAcquire(folder);
        if (owner is null) return RunState.Running;
        var before = Inspect(folder, spec.Experiment, owned: true);
        if (before.Finished) return before.State;
        Prepare(spec);
        var started = DateTime.UtcNow;
        WriteStatus(folder, RunState.Running, started, null);
        using var log = new StreamWriter(Path.Combine(folder, "log.txt"), append: true) { AutoFlush = true };
        // Which CPU and which GEMM kernels trained this stretch of the run: results do not depend on them, its speed does.
        log.WriteLine($"[{started:O}] {spec.Experiment.Name} {spec.Key} seed {spec.Seed} on {Environment.MachineName} ({MachineProfile.Read().Cpu}; {MachineProfile.MatmulLibraries()})");
        try
        {
            var result = RunResumingAfterLibTorchFailures(spec, folder, log, cancel, threads);
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
            // stopped by the user, not broken: the next sweep resumes it
            WriteStatus(folder, RunState.Interrupted, started, "stopped (Ctrl+C or SIGTERM) before it finished; the same command resumes it");
            log.WriteLine($"[{DateTime.UtcNow:O}] interrupted");
            throw;
        }
        catch (Exception e)
        {
            WriteStatus(folder, RunState.Failed, started, e is ExternalException native
                ? $"libtorch stopped it in each of {LibTorchAttempts} attempts; the last: {LibTorchMessage(native)}"
                : $"{e.GetType().Name}: {e.Message}");
            log.WriteLine($"[{DateTime.UtcNow:O}] failed: {e}");
            return RunState.Failed;
        }
    }

    /// <summary>How many times one <see cref="Execute"/> runs an experiment that libtorch stopped (the first attempt included).</summary>
    public const int LibTorchAttempts = 3;

    /// <summary>
    /// The experiment's run; when libtorch stops it with an error, the run again from its last checkpoint, up to
    /// <see cref="LibTorchAttempts"/> attempts in all — each logged. A resumed run ends with the same files as an
    /// uninterrupted one (TrainerTests, StoreIntegrityTests), so a run that needed a second attempt reports the numbers
    /// it would have reported without the failure; an error that is not transient recurs and the run fails.
    /// </summary>
    /// <remarks>
    /// Why: TorchSharp 0.107 hands libtorch a <c>Scalar</c> it converted implicitly (the alpha <c>1</c> behind every
    /// <c>a + b</c>) and keeps no reference to it during the native call; a garbage collection in that window lets the
    /// finalizer free it, and libtorch then reads freed memory and stops with "Expected false to be true … toFloat"
    /// (dotnet/TorchSharp PR 1496, open). <see cref="HeldScalars"/> takes the hottest calls out of that window, not all of
    /// them (TorchSharp's own modules and optimisers make their own): it stopped a recurrent run, then a Transformer
    /// tuning run (<c>a746c7c6ccdc</c>, in a residual connection's add).
    /// </remarks>
    RunResult RunResumingAfterLibTorchFailures(RunSpec spec, string folder, StreamWriter log, CancellationToken cancel, int threads)
    {
        for (int attempt = 1; ; attempt++)
        {
            foreach (var stale in new[] { "summary.json", "curve.csv" }) File.Delete(Path.Combine(folder, stale)); // an unfinished run's leftovers
            try { return spec.Experiment.Run(spec.Config, spec.Seed, new RunContext(folder, log, cancel, threads)); }
            catch (ExternalException e) when (attempt < LibTorchAttempts && !cancel.IsCancellationRequested)
            {
                log.WriteLine($"[{DateTime.UtcNow:O}] libtorch stopped attempt {attempt} of {LibTorchAttempts}: {LibTorchMessage(e)}; resuming from the last checkpoint");
            }
        }
    }

    /// <summary>A libtorch error without its native backtrace: what failed and where it was raised.</summary>
    static string LibTorchMessage(ExternalException e) =>
        string.Join(" ", e.Message.Split('\n').Select(l => l.Trim()).TakeWhile(l => !l.StartsWith("frame #", StringComparison.Ordinal)).Where(l => l.Length > 0));

    /// <summary>Every run of <paramref name="experiment"/> in the store (all states).</summary>
    public IReadOnlyList<RunRecord> Load(string experiment)
    {
        var folder = Path.Combine(Root, experiment);
        if (!Directory.Exists(folder)) return [];
        // Keys added to the experiment after a run was stored read as their default, which reproduces the old behaviour.
        var known = ExperimentRegistry.TryGet(experiment);
        var defaults = known is not null ? Settings.Describe(known.Defaults).ToDictionary(d => d.Key, d => d.Value) : [];
        var records = new List<RunRecord>();
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var (state, reason) = Inspect(dir, known);
            if (state == RunState.Pending) continue; // prepared, never started
            var values = new Dictionary<string, string>(defaults);
            int seed = 0;
            double seconds = 0;
            IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
            try
            {
                var config = ReadJson(Path.Combine(dir, "config.json"));
                if (config?["config"] is JsonObject settings)
                    foreach (var (key, value) in Settings.Assignments(settings)) values[key] = value;
                seed = (int?)(config?["seed"] as JsonValue) ?? 0;
                seconds = (double?)(ReadJson(Path.Combine(dir, "status.json"))?["seconds"] as JsonValue) ?? 0;
                if (state is RunState.Done or RunState.Diverged)
                    metrics = ReadJson(Path.Combine(dir, "summary.json"))!["metrics"]!.AsObject().ToDictionary(kv => kv.Key, kv => Number(kv.Value!));
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or SettingsException)
            {
                (state, reason) = (RunState.Damaged, $"its files do not read back ({e.Message})");
            }
            records.Add(new RunRecord(experiment, Path.GetFileName(dir), dir, seed, values, state, metrics, reason, seconds));
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

    static double Number(JsonNode node) =>
        node.AsValue().TryGetValue<double>(out var d) ? d : double.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture);

    static JsonObject? ReadJson(string path) => TryReadJson(path).Json;

    /// <summary>The file as a JSON object, or null and what is wrong with it ("missing", "not valid JSON: …").</summary>
    static (JsonObject? Json, string? Error) TryReadJson(string path)
    {
        if (!File.Exists(path)) return (null, "missing");
        try { return JsonNode.Parse(File.ReadAllText(path)) is JsonObject json ? (json, null) : (null, "not a JSON object"); }
        catch (JsonException e) { return (null, $"not valid JSON: {e.Message}"); }
        catch (IOException e) { return (null, $"unreadable: {e.Message}"); }
    }
}
