using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Metrics;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using static TorchSharp.torch;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>at-vs-nat</c>: trains three models with the same settings and seed — the autoregressive Transformer (<c>at/</c>),
/// a NAT on the data (<c>nat/</c>) and a NAT on the AT's beam-4 outputs (<c>nat-kd/</c>, sequence-level distillation) —
/// then measures on test: quality (sequence and symbol error: WER and PER for G2P), length-prediction accuracy,
/// consecutive-repeat rate, and latency (per item at batch 1, per batch of 64, and against output length).
/// Tables: <c>quality.csv</c> (one row per model and decoding), <c>latency_by_length.csv</c>, <c>refinement.csv</c>
/// (mask-predict iterations × length beam). Each part resumes if the run is interrupted.
/// The NATs train as conditional masked LMs by default (<c>nat_masking=uniform</c>) so that refinement has something to refine.
/// </summary>
public sealed class AtVsNatExperiment : Experiment<TrainingSettings>
{
    public override string Name => "at-vs-nat";
    public override string Question => "How much faster is a non-autoregressive decoder, what does it cost in quality, and how much do distillation and refinement win back?";
    public override IReadOnlyList<string> Tables => ["latency_by_length.csv", "refinement.csv", "quality.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.SmallG2p.WithDecoderInput(d => d with { NatMasking = NatMasking.Uniform });
    public override void Validate(object config) => ((TrainingSettings)config).WithArchitecture(Architecture.NonAutoregressive).Validate();

    /// <summary>How AT and NAT outputs are decoded: the <c>decoder</c> of each row of quality.csv, in order.</summary>
    public static readonly IReadOnlyList<string> Decoders = ["at greedy", "at beam 4", "nat", "nat kd", "nat 4 iterations", "nat kd 4 iterations", "nat kd length beam 3", "references"];

    /// <summary>One row of quality.csv: one decoder of a run on all of test (the references' row has only repetition and mean length).</summary>
    public sealed record QualityRow(string Decoder, double SequenceError, double SymbolError, double LengthAccuracy, double Repetition, double MeanLength, double TestSeconds);

    /// <summary>One row of refinement.csv: a NAT (trained on the data or distilled) decoded with a length beam and mask-predict iterations.</summary>
    public sealed record RefinementRow(bool Distilled, int LengthBeam, int Iterations, double SequenceError, double SymbolError, double Repetition, double TestSeconds);

    /// <summary>The decoders whose latency a run measures, per word at batch 1 and per batch of 64.</summary>
    public static readonly IReadOnlyList<string> TimedDecoders = ["at greedy", "at beam 4", "nat", "nat 4 iterations"];

    /// <summary>One latency measurement of a run: a decoder at batch 1 (ms per word) or at a batch of 64 (ms per batch), median of repeats.</summary>
    public sealed record LatencyReading(string Decoder, int Batch, double Milliseconds);

    /// <summary>The summary.json metric that holds a latency (the one place its name is built).</summary>
    public static string LatencyMetric(string decoder, int batch) => $"latency_b{batch}_{decoder.Replace(' ', '_')}_ms";

    public static IReadOnlyList<LatencyReading> Latencies(RunRecord run) =>
        [.. from decoder in TimedDecoders from batch in new[] { 1, 64 } select new LatencyReading(decoder, batch, run.Metrics[LatencyMetric(decoder, batch)])];

    /// <summary>One row of latency_by_length.csv: AT greedy and one-pass NAT on test words of one reference length, one word and a batch of up to 64 (median ms).</summary>
    public sealed record LatencyByLengthRow(int OutputLength, int Items, double AtB1Ms, double NatB1Ms, double AtBatchMs, double NatBatchMs);

    public static IReadOnlyList<LatencyByLengthRow> LatencyByLengthRows(RunRecord run) => Csv.ReadRows<LatencyByLengthRow>(Path.Combine(run.Folder, "latency_by_length.csv"));

    public static IReadOnlyList<QualityRow> Quality(RunRecord run) => Csv.ReadRows<QualityRow>(Path.Combine(run.Folder, "quality.csv"));
    public static IReadOnlyList<RefinementRow> Refinement(RunRecord run) => Csv.ReadRows<RefinementRow>(Path.Combine(run.Folder, "refinement.csv"));

    /// <summary>
    /// Runs stored before the typed tables wrote quality.csv's <c>decoder</c> as an index and refinement.csv's
    /// <c>distilled</c> as 0/1: write the decoder's name and true/false.
    /// </summary>
    public override bool Upgrade(string folder)
    {
        var changed = false;
        var qualityPath = Path.Combine(folder, "quality.csv");
        var quality = Csv.ReadRows<QualityRow>(qualityPath);
        if (quality.Count > 0 && quality.All(r => int.TryParse(r.Decoder, out var i) && i >= 0 && i < Decoders.Count))
        {
            Csv.WriteRows(qualityPath, quality.Select(r => r with { Decoder = Decoders[int.Parse(r.Decoder)] }));
            changed = true;
        }
        var refinementPath = Path.Combine(folder, "refinement.csv");
        if (Csv.Read(refinementPath) is { Count: > 0 } numeric && numeric[0].ContainsKey("distilled")) // 0/1 parse as numbers; true/false do not
        {
            Csv.WriteRows(refinementPath, Csv.ReadRows<RefinementRow>(refinementPath));
            changed = true;
        }
        return changed;
    }
    /// <summary>Items timed one at a time.</summary>
    const int LatencyItems = 40;

    /// <summary>A named way to decode a batch of sources: one model and one decoding rule.</summary>
    sealed record NamedDecoder(string Name, Func<Tensor, IReadOnlyList<Hypothesis>> Decode);

    public override RunResult Run(TrainingSettings config, int seed, RunContext context)
    {
        var settings = config with { Seed = seed, Threads = config.Threads > 0 ? config.Threads : context.Threads };
        var device = TorchRuntime.Device(settings.Device);
        var data = settings.LoadData(Workspace.Root());
        var metrics = new Dictionary<string, double>();
        if (TrainModels(settings, data, context, metrics) is { } divergence) return new RunResult(metrics, [], Diverged: true, divergence);

        using var teacher = Checkpoint.Load(Path.Combine(context.Folder, "at", "best.ckpt")).RestoreModel(device);
        using var natModel = Checkpoint.Load(Path.Combine(context.Folder, "nat", "best.ckpt")).RestoreNonAutoregressive(device);
        using var kdModel = Checkpoint.Load(Path.Combine(context.Folder, "nat-kd", "best.ckpt")).RestoreNonAutoregressive(device);
        var test = EvaluationItem.Group(data.Test);
        NamedDecoder Nat(string name, NonAutoregressiveTransformer m, int iterations = 1, int lengthBeam = 1) =>
            new(name, source => NonAutoregressiveDecoding.Decode(m, source, new NatDecodeOptions(lengthBeam, iterations)).Hypotheses);
        NamedDecoder[] decoders =
        [
            new("at greedy", s => Greedy.Decode(teacher, s)), new("at beam 4", s => BeamSearch.Decode(teacher, s, new BeamOptions(4)).Select(n => n[0]).ToList()),
            Nat("nat", natModel), Nat("nat kd", kdModel), Nat("nat 4 iterations", natModel, 4), Nat("nat kd 4 iterations", kdModel, 4),
            Nat("nat kd length beam 3", kdModel, lengthBeam: 3),
        ];

        MeasureQuality(decoders, test, data, device, context, metrics);
        var sources = test.Select(i => data.SourceVocabulary.Encode(i.Source)).ToList();
        MeasureLatency(decoders, sources, device, metrics);
        Csv.WriteRows(Path.Combine(context.Folder, "latency_by_length.csv"), LatencyByLength(test, sources, Named(decoders, "at greedy"), Named(decoders, "nat"), device));
        Csv.WriteRows(Path.Combine(context.Folder, "refinement.csv"), Refine([(false, natModel), (true, kdModel)], test, data, device));
        context.Log.WriteLine($"speed-up at batch 1: {metrics["speedup_b1_vs_greedy"]:F2}× over greedy, {metrics["speedup_b1_vs_beam4"]:F2}× over beam 4");
        return new RunResult(metrics, []);
    }

    static Func<Tensor, IReadOnlyList<Hypothesis>> Named(IEnumerable<NamedDecoder> decoders, string name) => decoders.Single(d => d.Name == name).Decode;

    /// <summary>
    /// Trains the AT (<c>at/</c>), the NAT on the data (<c>nat/</c>) and the NAT on the AT's beam-4 outputs (<c>nat-kd/</c>),
    /// each resuming from its own folder. Returns why a part diverged, or null when all three finished.
    /// </summary>
    static string? TrainModels(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var root = Workspace.Root();
        var at = settings.WithArchitecture(Architecture.Autoregressive) with { Distillation = new() };
        var nat = settings.WithArchitecture(Architecture.NonAutoregressive) with { Distillation = new() };
        var kd = nat with { Distillation = new() { From = Path.Combine(context.Folder, "at", "best.ckpt") } };
        foreach (var (name, part) in new[] { ("at", at), ("nat", nat), ("nat-kd", kd) })
        {
            context.Log.WriteLine($"training {name}");
            var partData = SequenceDistillation.Distil(part, data, root); // the data itself for the AT and the plain NAT
            var summary = new Trainer(part, partData, Path.Combine(context.Folder, name), new TrainerHooks
            {
                OnEvaluation = r => context.Log.WriteLine($"{name} dev @ {r.Step}: loss {r.Loss:F4}, sequence error {r.SequenceError:P2}"),
            }).RunToCompletion(context.Cancel);
            if (summary.Status == RunStatus.Interrupted) throw new OperationCanceledException("interrupted");
            if (summary.Status == RunStatus.Diverged) return $"{name}: {summary.Reason}";
            var key = name.Replace('-', '_');
            metrics[$"{key}_train_seconds"] = summary.TrainingSeconds;
            metrics[$"{key}_parameters"] = summary.Parameters;
            metrics[$"{key}_best_dev_sequence_error"] = summary.Best?.SequenceError ?? double.NaN;
        }
        return null;
    }

    /// <summary>quality.csv: every decoder on all of test — error rates, length accuracy, repeats — and the references' own repeats.</summary>
    static void MeasureQuality(IReadOnlyList<NamedDecoder> decoders, IReadOnlyList<EvaluationItem> test, TaskData data, Device device,
        RunContext context, Dictionary<string, double> metrics)
    {
        var quality = new List<QualityRow>();
        foreach (var decoder in decoders)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (m, predictions) = Evaluator.Decode(decoder.Decode, test, data.SourceVocabulary, data.TargetVocabulary, device, copy: null);
            var row = new QualityRow(decoder.Name, m.SequenceErrorRate, m.SymbolErrorRate,
                LengthAccuracy: predictions.Count(p => p.References.Any(r => r.Count == p.Output.Count)) / (double)predictions.Count,
                Repetition: Repetition.Rate(predictions.Select(p => p.Output)), MeanLength: predictions.Average(p => p.Output.Count), TestSeconds: clock.Elapsed.TotalSeconds);
            quality.Add(row);
            var key = decoder.Name.Replace(' ', '_');
            metrics[$"{key}_sequence_error"] = row.SequenceError;
            metrics[$"{key}_symbol_error"] = row.SymbolError;
            metrics[$"{key}_length_accuracy"] = row.LengthAccuracy;
            metrics[$"{key}_repetition"] = row.Repetition;
            context.Log.WriteLine($"{decoder.Name}: sequence error {m.SequenceErrorRate:P2}, symbol error {m.SymbolErrorRate:P2}, repeats {row.Repetition:P2}");
        }
        metrics["references_repetition"] = Repetition.Rate(test.Select(i => i.References[0]));
        quality.Add(new QualityRow("references", double.NaN, double.NaN, double.NaN, metrics["references_repetition"], test.Average(i => i.References[0].Count), double.NaN));
        Csv.WriteRows(Path.Combine(context.Folder, "quality.csv"), quality);
    }

    /// <summary>Latency of the <see cref="TimedDecoders"/>: per item at batch 1 and per batch of 64 (the first items of test, in data order).</summary>
    static void MeasureLatency(IReadOnlyList<NamedDecoder> decoders, IReadOnlyList<int[]> sources, Device device, Dictionary<string, double> metrics)
    {
        foreach (var name in TimedDecoders)
        {
            var decode = Named(decoders, name);
            var items = sources.Take(LatencyItems).Select(s => Batching.Pad([s], device)).ToList();
            metrics[LatencyMetric(name, 1)] = 1000 * Latency.Measure(() => { foreach (var s in items) decode(s); }, warmup: 1, repeats: 3).Median / items.Count;
            using var batch = Batching.Pad(sources.Take(64).ToList(), device);
            metrics[LatencyMetric(name, 64)] = 1000 * Latency.Measure(() => decode(batch), warmup: 1, repeats: 3).Median;
            foreach (var s in items) s.Dispose();
        }
        metrics["speedup_b1_vs_greedy"] = metrics[LatencyMetric("at greedy", 1)] / metrics[LatencyMetric("nat", 1)];
        metrics["speedup_b1_vs_beam4"] = metrics[LatencyMetric("at beam 4", 1)] / metrics[LatencyMetric("nat", 1)];
        metrics["speedup_b64_vs_greedy"] = metrics[LatencyMetric("at greedy", 64)] / metrics[LatencyMetric("nat", 64)];
    }

    /// <summary>refinement.csv: both NATs over mask-predict iterations × length beam.</summary>
    static List<RefinementRow> Refine(IEnumerable<(bool Distilled, NonAutoregressiveTransformer Model)> nats, IReadOnlyList<EvaluationItem> test, TaskData data, Device device)
    {
        var refinement = new List<RefinementRow>();
        foreach (var (distilled, model) in nats)
            foreach (var lengthBeam in new[] { 1, 3 })
                foreach (var iterations in new[] { 1, 2, 4, 8 })
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var (m, predictions) = Evaluator.Decode(source => NonAutoregressiveDecoding.Decode(model, source, new NatDecodeOptions(lengthBeam, iterations)).Hypotheses,
                        test, data.SourceVocabulary, data.TargetVocabulary, device, copy: null);
                    refinement.Add(new RefinementRow(distilled, lengthBeam, iterations, m.SequenceErrorRate, m.SymbolErrorRate,
                        Repetition.Rate(predictions.Select(p => p.Output)), clock.Elapsed.TotalSeconds));
                }
        return refinement;
    }

    /// <summary>
    /// Side-by-side outputs of a finished run's three models on its first <paramref name="items"/> test items: the
    /// ones where a NAT repeats a token the references do not repeat come first. Null when the run folder has no
    /// checkpoints (run folders are committed without them).
    /// </summary>
    public static IReadOnlyList<(string Source, string Reference, string At, string Nat, string NatKd)>? Examples(RunRecord run, int items = 300)
    {
        var paths = new[] { "at", "nat", "nat-kd" }.Select(p => Path.Combine(run.Folder, p, "best.ckpt")).ToArray();
        if (!paths.All(File.Exists)) return null;
        var checkpoints = paths.Select(Checkpoint.Load).ToArray();
        var data = checkpoints[0].Settings.LoadData(Workspace.Root());
        var test = EvaluationItem.Group(data.Test).Take(items).ToList();
        using var at = checkpoints[0].RestoreModel(CPU);
        using var nat = checkpoints[1].RestoreNonAutoregressive(CPU);
        using var kd = checkpoints[2].RestoreNonAutoregressive(CPU);
        IReadOnlyList<Prediction> Decode(Func<Tensor, IReadOnlyList<Hypothesis>> decode) =>
            Evaluator.Decode(decode, test, data.SourceVocabulary, data.TargetVocabulary, CPU, copy: null).Predictions;
        var a = Decode(s => Greedy.Decode(at, s));
        var n = Decode(s => NonAutoregressiveDecoding.Decode(nat, s).Hypotheses);
        var k = Decode(s => NonAutoregressiveDecoding.Decode(kd, s).Hypotheses);
        bool Repeats(IReadOnlyList<string> x) => Repetition.Rate([x]) > 0;
        var letters = checkpoints[0].Settings.Task.Kind == TaskKind.G2p; // a word reads better unspaced
        return Enumerable.Range(0, test.Count)
            .OrderByDescending(i => Repeats(n[i].Output) && !test[i].References.Any(Repeats))
            .Select(i => (string.Join(letters ? "" : " ", test[i].Source), string.Join(" ", test[i].References[0]), string.Join(" ", a[i].Output), string.Join(" ", n[i].Output), string.Join(" ", k[i].Output)))
            .ToList();
    }

    /// <summary>
    /// Decoding time against output length: test items grouped by their reference length; for each length with at
    /// least 4 items, AT greedy and one-shot NAT on one item (batch 1) and on up to 64 items at once.
    /// </summary>
    static List<LatencyByLengthRow> LatencyByLength(IReadOnlyList<EvaluationItem> test, IReadOnlyList<int[]> sources,
        Func<Tensor, IReadOnlyList<Hypothesis>> at, Func<Tensor, IReadOnlyList<Hypothesis>> nat, Device device)
    {
        var rows = new List<LatencyByLengthRow>();
        foreach (var group in Enumerable.Range(0, test.Count).GroupBy(i => test[i].References[0].Count).Where(g => g.Count() >= 4).OrderBy(g => g.Key))
        {
            var indices = group.Take(64).ToList();
            using var one = Batching.Pad([sources[indices[0]]], device);
            using var many = Batching.Pad(indices.Select(i => sources[i]).ToList(), device);
            rows.Add(new LatencyByLengthRow(group.Key, indices.Count,
                AtB1Ms: 1000 * Latency.Measure(() => at(one), warmup: 1, repeats: 5).Median,
                NatB1Ms: 1000 * Latency.Measure(() => nat(one), warmup: 1, repeats: 5).Median,
                AtBatchMs: 1000 * Latency.Measure(() => at(many), warmup: 1, repeats: 3).Median,
                NatBatchMs: 1000 * Latency.Measure(() => nat(many), warmup: 1, repeats: 3).Median));
        }
        return rows;
    }
}
