namespace TransformerLab.Runtime;

/// <summary>The repository this code runs in: the folder holding Research.sln, found upwards from a start folder.</summary>
public static class Workspace
{
    /// <summary>The workspace root above <paramref name="start"/> (default: the current folder), or null outside one.</summary>
    public static string? FindRoot(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Research.sln"))) return dir.FullName;
        return null;
    }

    /// <summary>The workspace root, or an error saying how to get into one.</summary>
    public static string Root(string? start = null) => FindRoot(start)
        ?? throw new DirectoryNotFoundException($"Not inside the workspace (no Research.sln above {start ?? Environment.CurrentDirectory}): run from the repository.");

    /// <summary>
    /// Which code produced a result: "commit abc1234" of the git checkout at <paramref name="root"/>, "… with uncommitted
    /// changes" when the tracked files differ from it, or "no git checkout" (no git, or not a repository).
    /// </summary>
    public static string Revision(string root)
    {
        string? Git(params string[] args) =>
            ProcessOutput.Run("git", root, args, TimeSpan.FromSeconds(30)) is { Succeeded: true } git ? git.Output.Trim() : null;
        var commit = Git("rev-parse", "--short", "HEAD");
        if (commit is null) return "no git checkout";
        var dirty = Git("status", "--porcelain", "--untracked-files=no") is { Length: > 0 };
        return $"commit {commit}{(dirty ? " with uncommitted changes" : "")}";
    }
}
