using System.Text.RegularExpressions;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>
/// The library's folders depend on each other one way — model ← training ← experiments ← notebooks and the CLI (issue 37):
/// the graph of <c>using TransformerLab.X</c> between the folders of lib/TransformerLab has no cycle, and the model
/// and evaluation never reach up into training.
/// </summary>
public sealed partial class DependencyGraphTests
{
    [GeneratedRegex(@"\bTransformerLab\.([A-Z][A-Za-z]+)")]
    private static partial Regex Reference();

    static Dictionary<string, HashSet<string>> Graph()
    {
        var library = Path.Combine(Workspace.Root(AppContext.BaseDirectory), "lib", "TransformerLab");
        var folders = Directory.GetDirectories(library).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Select(f => f!).ToHashSet();
        return folders.ToDictionary(f => f, f => Directory.EnumerateFiles(Path.Combine(library, f), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => File.ReadLines(file).Where(l => l.TrimStart().StartsWith("using ", StringComparison.Ordinal)))
            .SelectMany(l => Reference().Matches(l).Select(m => m.Groups[1].Value))
            .Where(d => d != f && folders.Contains(d)).ToHashSet());
    }

    [Fact]
    public void The_folders_form_no_cycle()
    {
        var graph = Graph();
        var state = new Dictionary<string, int>(); // 1 on the current path, 2 done
        List<string>? cycle = null;
        bool Visit(string node, List<string> path)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in graph[node].Order())
            {
                if (state.GetValueOrDefault(next) == 1) { cycle = [.. path.SkipWhile(n => n != next), next]; return false; }
                if (state.GetValueOrDefault(next) == 0 && !Visit(next, path)) return false;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return true;
        }
        foreach (var node in graph.Keys.Order())
            if (state.GetValueOrDefault(node) == 0 && !Visit(node, [])) Assert.Fail("cycle: " + string.Join(" → ", cycle!));
    }

    [Fact]
    public void The_model_and_evaluation_restore_and_score_without_training()
    {
        var graph = Graph();
        foreach (var lower in new[] { "Attention", "Model", "Data", "Decoding", "Evaluation", "Metrics", "Runtime" })
            Assert.DoesNotContain("Training", graph[lower]);
        Assert.DoesNotContain("Experiments", graph["Training"]);
    }
}
