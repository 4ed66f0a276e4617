using System.Text.Json;
using TransformerLab.Runtime;

namespace TransformerLab.Evaluation;

/// <summary>
/// What <c>research eval</c> measured on one split with one decoder, as written beside its predictions file
/// (<c>predictions-&lt;checkpoint&gt;-&lt;split&gt;-&lt;decoding&gt;.json</c>, with <c>-bf16</c> after the decoding when the
/// matrix products ran in bfloat16, so that such an evaluation never takes the float32 one's place; keys in snake_case).
/// <see cref="Precision"/> is "fp32" or "bf16"; files written before it was recorded were all float32 (no committed
/// evaluation used <c>--precision bf16</c>), which is what a missing key reads as.
/// </summary>
public sealed record EvaluationSummary(string Checkpoint, long Step, string Split, string Decoding, int Beam, double LengthPenalty, int LengthBeam, int Iterations,
    int Items, double SequenceError, double SymbolError, double ExactMatch, double TokenAccuracy, double Bleu, double Seconds, string Precision = "fp32")
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The file <c>research eval --checkpoint &lt;folder&gt;/best.ckpt --split &lt;split&gt;</c> writes for greedy decoding in float32.</summary>
    public static string GreedyFile(string runFolder, string split) => Path.Combine(runFolder, $"predictions-best-{split}-greedy.json");

    public void Write(string path) => AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, Options));

    /// <summary>The summary at <paramref name="path"/>, or null if there is none.</summary>
    public static EvaluationSummary? Read(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<EvaluationSummary>(File.ReadAllText(path), Options) : null;
}
