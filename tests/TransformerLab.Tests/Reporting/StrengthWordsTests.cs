using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerLab.Reporting;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Reporting;

/// <summary>
/// Strength words belong to computed verdicts. Hand-written prose — experiments.md outside its generated tables and claims,
/// the README and the notebooks' markdown — may not add one: a sentence that says a variant is "measurably" better or better "in every
/// seed" must be a claim generated from the interval (<c>&lt;!-- claim: … --&gt;</c>, <see cref="ExperimentsClaims"/>).
/// </summary>
public sealed class StrengthWordsTests
{
    static readonly Regex Strength = new(@"\b(measurabl[ey]|consistent(ly)?|significant(ly)?|every\s+seed|outperform\w*|beats?|rescues?)\b", RegexOptions.IgnoreCase);

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
        var files = new[] { "experiments.md", "README.md" }.Concat(Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Select(f => "notebooks/" + Path.GetFileName(f)));
        var problems = new List<string>();
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var found = Strength.Matches(Prose(root, file)).Select(m => Regex.Replace(m.Value, @"\s+", " ")).ToList();
            if (found.Count > 0)
                problems.Add($"{file}: strength words in hand-written prose ({string.Join(", ", found)}); state the direction through a generated claim (ExperimentsClaims, Estimate.Verdict; in a notebook, Tables.Claims) instead.");
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
