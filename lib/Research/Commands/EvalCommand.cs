using System.CommandLine;
using Spectre.Console;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Metrics;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research eval</c>: decode a split with a checkpoint, print the metrics, write the predictions.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A .ckpt file written by `research train` (best.ckpt or last.ckpt).", Required = true };
        var split = new Option<string>("--split") { Description = "dev or test.", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("dev", "test");
        var beam = new Option<int>("--beam") { Description = "Beam size; 1 = greedy.", DefaultValueFactory = _ => 1 };
        var alpha = new Option<double>("--length-penalty") { Description = "Beam search length penalty α (0 = rank by log-probability).", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Predictions file (.tsv; metrics go beside it as .json). Default: beside the checkpoint." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var batch = new Option<int>("--batch-size") { Description = "Sources decoded together.", DefaultValueFactory = _ => 256 };
        var lengthBeam = new Option<int>("--length-beam") { Description = "NAT only: decode this many most probable lengths and keep the best output.", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "NAT only: mask-predict iterations (1 = one-shot).", DefaultValueFactory = _ => 1 };
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16 (matrix products in bfloat16); either decodes any checkpoint, whichever precision trained it.", DefaultValueFactory = _ => "fp32" };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var command = new Command("eval", "Evaluate a checkpoint on dev or test: WER/PER for G2P, exact match and token accuracy for every task, corpus BLEU.")
            { checkpoint, split, beam, alpha, output, device, batch, lengthBeam, iterations, precision };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(split)!, parse.GetValue(beam), parse.GetValue(alpha),
            parse.GetValue(output), parse.GetValue(device)!, parse.GetValue(batch), new NatDecodeOptions(parse.GetValue(lengthBeam), parse.GetValue(iterations)),
            parse.GetValue(precision) == "bf16" ? Precision.Bf16 : Precision.Fp32));
        return command;
    }

    static int Run(string checkpointPath, string split, int beam, double alpha, string? output, string deviceName, int batchSize, NatDecodeOptions nat, Precision precision)
    {
        if (batchSize < 1) throw new UsageException($"--batch-size must be at least 1 (got {batchSize}).");
        TorchRuntime.EnsureLoaded();
        TorchSharp.torch.Device device;
        try { device = TorchRuntime.Device(deviceName); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (MixedPrecision.Unsupported(precision, device) is { } unsupported) throw new UsageException(unsupported.Replace("precision=", "--precision "));
        using var products = MixedPrecision.Use(precision);

        var checkpoint = Checkpoint.Load(checkpointPath);
        if (beam > 1 && CheckpointDecoder.BeamTooWide(checkpoint.Model, beam, batchSize) is { } tooWide) throw new UsageException(tooWide);
        var settings = checkpoint.Settings;
        var data = settings.LoadData(NotebooksCommand.WorkspaceRoot());
        if (!checkpoint.HasVocabulariesOf(data))
            throw new CheckpointException($"The {settings.Task} data now loaded has other vocabularies than {checkpointPath} was trained with; the data changed since.");
        var items = EvaluationItem.Group(data.Split(split));
        CheckpointDecoder decoder;
        try { decoder = new CheckpointDecoder(checkpoint.Model, device, beam, alpha, nat); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        using var _ = decoder;
        var decodingName = decoder.Name;

        var clock = Stopwatch.StartNew();
        var (metrics, predictions) = Evaluator.Decode(decoder, items, device, batchSize);
        clock.Stop();
        var bleu = Bleu.Corpus(predictions.Select(p => p.Output).ToList(), predictions.Select(p => p.References).ToList());

        bool g2p = settings.Task.Kind == TaskKind.G2p;
        var table = ResearchCli.Table("metric", "value");
        table.AddRow("checkpoint", Markup.Escape($"{checkpointPath} (step {checkpoint.Progress.Step})"));
        table.AddRow("split", $"{split}: {metrics.Items:N0} items");
        table.AddRow("decoding", Markup.Escape(decodingName));
        table.AddRow(g2p ? "WER (word error rate)" : "sequence error", $"{metrics.SequenceErrorRate:P2}");
        table.AddRow(g2p ? "PER (phoneme error rate)" : "symbol error", $"{metrics.SymbolErrorRate:P2}");
        table.AddRow("exact match", $"{metrics.ExactMatch:P2}");
        table.AddRow("token accuracy", $"{metrics.TokenAccuracy:P2}");
        table.AddRow("corpus BLEU", $"{100 * bleu:F2}");
        table.AddRow("time", $"{clock.Elapsed.TotalSeconds:F1} s ({metrics.Items / clock.Elapsed.TotalSeconds:N0} items/s)");
        ResearchCli.Terminal.Write(table);

        var precisionName = precision.ToString().ToLowerInvariant(); // "fp32" or "bf16", as --precision spells it
        var tsv = Path.GetFullPath(output ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!,
            $"predictions-{Path.GetFileNameWithoutExtension(checkpointPath)}-{split}-{decoder.FileTag}{(precision == Precision.Fp32 ? "" : "-" + precisionName)}.tsv"));
        Directory.CreateDirectory(Path.GetDirectoryName(tsv)!);
        PredictionsFile.Write(tsv, predictions);
        new EvaluationSummary(Path.GetFullPath(checkpointPath), checkpoint.Progress.Step, split, decodingName, beam, alpha, nat.LengthBeam, nat.Iterations,
            metrics.Items, metrics.SequenceErrorRate, metrics.SymbolErrorRate, metrics.ExactMatch, metrics.TokenAccuracy, bleu, clock.Elapsed.TotalSeconds,
            precisionName)
            .Write(Path.ChangeExtension(tsv, ".json"));
        Console.WriteLine($"Predictions: {tsv}");
        return ResearchCli.Ok;
    }
}
