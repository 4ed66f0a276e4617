using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Training;
using static TorchSharp.torch;
using TransformerLab.Runtime;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>decoding</c>: trains an autoregressive model, then decodes test from its best checkpoint in every way the
/// library knows. <c>beam.csv</c>: greedy and beam 1/2/4/8, each without and with length normalisation (α = 1):
/// sequence and symbol error, mean output length, model score, time. <c>beam_by_length.csv</c>: greedy against
/// beam 4 by source length, and how many items each gets right that the other gets wrong. <c>sampling.csv</c>:
/// temperature, top-k and top-p, <see cref="Samples"/> samples per item: mean error, oracle error (some sample is
/// right) and diversity (distinct outputs per item). <c>beam_oracle.csv</c>: the same oracle over beam search's own
/// n best (n = 1 … <see cref="OracleCandidates"/>), the like-for-like comparison for the sampling oracle.
/// </summary>
public sealed class DecodingExperiment : TrainingExperiment
{
    public override string Name => "decoding";
    public override string Question => "When does beam search beat greedy decoding, what does length normalisation change, and what does sampling trade between diversity and accuracy?";
    public override IReadOnlyList<string> Tables => ["beam.csv", "beam_by_length.csv", "beam_oracle.csv", "sampling.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.SmallG2p;

    public static readonly int[] BeamSizes = [1, 2, 4, 8];
    public static readonly double[] LengthPenalties = [0, 1];
    /// <summary>(temperature, top-k, top-p) of each sampling row.</summary>
    public static readonly IReadOnlyList<(double Temperature, int TopK, double TopP)> SamplingGrid =
        [(0.5, 0, 0), (1.0, 0, 0), (1.5, 0, 0), (1.0, 3, 0), (1.0, 0, 0.9), (1.5, 0, 0.9)];
    public const int Samples = 5;
    /// <summary>The beam size and n-best size of beam_oracle.csv: as many candidates as the sampling rows draw.</summary>
    public const int OracleCandidates = Samples;
    public override int Version => 2; // 2: beam_oracle.csv

    /// <summary>One row of beam.csv: a beam size and length penalty (beam 1, α 0 = greedy) on all of test.</summary>
    public sealed record BeamRow(int Beam, double LengthPenalty, double SequenceError, double SymbolError, double MeanLength, double MeanLogProbability, double Seconds);

    /// <summary>One row of sampling.csv: a sampling setting, <see cref="Samples"/> samples per item — mean error of one sample, oracle error (no sample right), distinct outputs.</summary>
    public sealed record SamplingRow(double Temperature, int TopK, double TopP, double SequenceError, double SymbolError, double OracleSequenceError, double DistinctOutputs);

    /// <summary>One row of beam_oracle.csv: beam <paramref name="Beam"/>'s <paramref name="Candidates"/> best hypotheses — the share of test items none of them gets right.</summary>
    public sealed record BeamOracleRow(int Beam, int Candidates, double OracleSequenceError);

    /// <summary>One row of beam_by_length.csv: greedy against beam 4 on the test items of one source length.</summary>
    public sealed record BeamByLengthRow(int SourceLength, int Items, double GreedyError, double Beam4Error, int OnlyBeam4Right, int OnlyGreedyRight);

    public static IReadOnlyList<BeamByLengthRow> BeamByLength(RunRecord run) => Csv.ReadRows<BeamByLengthRow>(Path.Combine(run.Folder, "beam_by_length.csv"));

    /// <summary>The mean length of the test references (the first reference of each item), against which output lengths compare.</summary>
    public static double ReferenceMeanLength(RunRecord run) => run.Metrics["reference_mean_length"];
    public static IReadOnlyList<BeamRow> Beams(RunRecord run) => Csv.ReadRows<BeamRow>(Path.Combine(run.Folder, "beam.csv"));
    public static IReadOnlyList<BeamOracleRow> BeamOracle(RunRecord run) => Csv.ReadRows<BeamOracleRow>(Path.Combine(run.Folder, "beam_oracle.csv"));
    public static IReadOnlyList<SamplingRow> SamplingRows(RunRecord run) => Csv.ReadRows<SamplingRow>(Path.Combine(run.Folder, "sampling.csv"));

    /// <summary>The summary.json metric of a beam setting's error (the one place its name is built).</summary>
    public static string BeamMetric(int size, double lengthPenalty, string error) => $"beam{size}{(lengthPenalty > 0 ? $"_lp{lengthPenalty}" : "")}_{error}";

    protected override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        using var model = BestModel(settings, context);
        var test = EvaluationItem.Group(data.Test);
        (Metrics.SequenceMetrics Metrics, IReadOnlyList<Prediction> Predictions, double Seconds) Run(DecodeStrategy strategy) => DecodeTest(model, data, strategy, settings);

        var beamRows = new List<BeamRow>();
        IReadOnlyList<Prediction>? greedy = null, beam4 = null;
        foreach (var alpha in LengthPenalties)
            foreach (var size in BeamSizes)
            {
                var (m, predictions, seconds) = Run(DecodeStrategy.Beam(size, alpha));
                if (size == 1 && alpha == 0) greedy = predictions;
                if (size == 4 && alpha == 0) beam4 = predictions;
                beamRows.Add(new BeamRow(size, alpha, m.SequenceErrorRate, m.SymbolErrorRate,
                    MeanLength: predictions.Average(p => p.Output.Count), MeanLogProbability: predictions.Average(p => p.LogProbability), Seconds: seconds));
                metrics[BeamMetric(size, alpha, "sequence_error")] = m.SequenceErrorRate;
                metrics[BeamMetric(size, alpha, "symbol_error")] = m.SymbolErrorRate;
                context.Log.WriteLine($"beam {size}, α {alpha}: sequence error {m.SequenceErrorRate:P2}, symbol error {m.SymbolErrorRate:P2}, {seconds:F1} s");
            }
        metrics["reference_mean_length"] = test.Average(i => i.References[0].Count);
        Csv.WriteRows(Path.Combine(context.Folder, "beam.csv"), beamRows);

        // where beam search helps: by source length, items only one of the two gets right
        Csv.WriteRows(Path.Combine(context.Folder, "beam_by_length.csv"), Enumerable.Range(0, test.Count)
            .GroupBy(i => test[i].Source.Count).OrderBy(g => g.Key)
            .Select(g => new BeamByLengthRow(g.Key, g.Count(),
                GreedyError: g.Count(i => !greedy![i].Correct) / (double)g.Count(), Beam4Error: g.Count(i => !beam4![i].Correct) / (double)g.Count(),
                OnlyBeam4Right: g.Count(i => beam4![i].Correct && !greedy![i].Correct), OnlyGreedyRight: g.Count(i => greedy![i].Correct && !beam4![i].Correct))));
        metrics["only_beam4_right"] = Enumerable.Range(0, test.Count).Count(i => beam4![i].Correct && !greedy![i].Correct);
        metrics["only_greedy_right"] = Enumerable.Range(0, test.Count).Count(i => greedy![i].Correct && !beam4![i].Correct);

        // the beam's own candidates, against which the sampling oracle compares: is one of its n best right?
        var nBest = Evaluator.DecodeNBest(input => BeamSearch.Decode(model, input, new BeamOptions(OracleCandidates, NBest: OracleCandidates)),
            test, data.SourceVocabulary, data.TargetVocabulary, TorchRuntime.Device(settings.Device), model.CopyVocabulary);
        var oracleRows = Enumerable.Range(1, OracleCandidates).Select(n => new BeamOracleRow(OracleCandidates, n,
            OracleSequenceError: nBest.Count(candidates => !candidates.Take(n).Any(p => p.Correct)) / (double)test.Count)).ToList();
        Csv.WriteRows(Path.Combine(context.Folder, "beam_oracle.csv"), oracleRows);
        metrics[$"beam{OracleCandidates}_top{OracleCandidates}_oracle_sequence_error"] = oracleRows[^1].OracleSequenceError;
        context.Log.WriteLine($"beam {OracleCandidates}, oracle of its {OracleCandidates} best: sequence error {oracleRows[^1].OracleSequenceError:P2}");

        var samplingRows = new List<SamplingRow>();
        foreach (var (temperature, topK, topP) in SamplingGrid)
        {
            var runs = Enumerable.Range(1, Samples)
                .Select(s => Run(new DecodeStrategy.SampledDecoding(new SamplingOptions(temperature, topK, topP, Seed: settings.Seed * 100 + s)))).ToList();
            var distinct = Enumerable.Range(0, test.Count).Average(i => runs.Select(r => string.Join(" ", r.Predictions[i].Output)).Distinct().Count());
            var oracle = Enumerable.Range(0, test.Count).Count(i => runs.All(r => !r.Predictions[i].Correct)) / (double)test.Count;
            samplingRows.Add(new SamplingRow(temperature, topK, topP, runs.Average(r => r.Metrics.SequenceErrorRate), runs.Average(r => r.Metrics.SymbolErrorRate),
                OracleSequenceError: oracle, DistinctOutputs: distinct));
            context.Log.WriteLine($"sampling T {temperature}, top-k {topK}, top-p {topP}: error {runs.Average(r => r.Metrics.SequenceErrorRate):P2}, oracle {oracle:P2}, {distinct:F2} distinct of {Samples}");
        }
        Csv.WriteRows(Path.Combine(context.Folder, "sampling.csv"), samplingRows);
    }
}
