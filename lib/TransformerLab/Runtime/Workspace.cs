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
}
