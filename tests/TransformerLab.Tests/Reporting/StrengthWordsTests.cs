using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerLab.Reporting;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Reporting;

/// <summary>
/// Strength words belong to computed verdicts. Hand-written prose — experiments.md outside its generated tables and claims,
/// and the notebooks' markdown — may not add one: a sentence that says a variant is "measurably" better or better "in every
/// seed" must be a claim generated from the interval (<c>&lt;!-- claim: … --&gt;</c>, <see cref="ExperimentsClaims"/>).
/// The prose written before issue 36 still holds some; <see cref="Allowance"/> counts them per file and only goes down:
/// the test fails when a file has more (write a claim instead) and when it has fewer (lower its allowance).
/// </summary>
public sealed class StrengthWordsTests
{
    static readonly Regex Strength = new(@"\b(measurabl[ey]|consistent(ly)?|significant(ly)?|every seed|outperform\w*|beats?|rescues?)\b", RegexOptions.IgnoreCase);

    /// <summary>Strength words left in each file's hand-written prose, to be rewritten from verdicts with issue 36's reruns.</summary>
    static readonly Dictionary<string, int> Allowance = new()
    {
        ["experiments.md"] = 31,
        ["notebooks/03-positional-encoding.ipynb"] = 1,
        ["notebooks/04-masks-and-cross-attention.ipynb"] = 1,
        ["notebooks/05-layer-norm-placement.ipynb"] = 5,
        ["notebooks/06-at-vs-nat.ipynb"] = 6,
        ["notebooks/07-exposure-bias-and-scheduled-sampling.ipynb"] = 2,
        ["notebooks/08-decoding.ipynb"] = 6,
        ["notebooks/09-self-attention-vs-rnn-cnn.ipynb"] = 1,
        ["notebooks/10-efficient-attention.ipynb"] = 2,
        ["notebooks/11-training-for-the-metric.ipynb"] = 7,
        ["notebooks/12-alignment-guided-attention-and-copying.ipynb"] = 4,
    };

    static string Prose(string root, string file)
    {
        var text = File.ReadAllText(Path.Combine(root, file));
        if (!file.EndsWith(".ipynb", StringComparison.Ordinal)) return ExperimentsReport.HandWritten(text);
        var cells = JsonNode.Parse(text)!["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "markdown");
        return string.Join("\n", cells.Select(c => c!["source"] is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)c!["source"] ?? ""));
    }

    [Fact]
    public void Hand_written_prose_adds_no_strength_word_a_verdict_did_not_compute()
    {
        var root = Workspace.Root(AppContext.BaseDirectory);
        var files = new[] { "experiments.md" }.Concat(Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Select(f => "notebooks/" + Path.GetFileName(f)));
        var problems = new List<string>();
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var found = Strength.Matches(Prose(root, file)).Select(m => m.Value).ToList();
            var allowed = Allowance.GetValueOrDefault(file);
            if (found.Count > allowed)
                problems.Add($"{file}: {found.Count} strength words in hand-written prose, allowance {allowed} ({string.Join(", ", found)}); state the direction through a generated claim (ExperimentsClaims, Estimate.Verdict) instead.");
            else if (found.Count < allowed)
                problems.Add($"{file}: {found.Count} strength words, fewer than its allowance {allowed}: lower the allowance to {found.Count}.");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Generated_claims_are_cut_out_before_counting()
    {
        var text = "A <!-- claim: x -->lower in every seed<!-- /claim --> B\n<!-- report: t -->\n| measurably |\n<!-- /report -->\nC";
        Assert.Equal("A  B\n\nC", ExperimentsReport.HandWritten(text));
    }
}
