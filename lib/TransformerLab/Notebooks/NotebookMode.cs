namespace TransformerLab.Notebooks;

/// <summary>How much a notebook computes: <c>Quick</c> for CI smoke runs (seconds), <c>Default</c> for real results.</summary>
public enum NotebookSize { Quick, Default }

/// <summary>
/// The one place a notebook reads its size from. <c>research notebooks --mode quick</c> sets the environment variable
/// <see cref="EnvironmentVariable"/>; in VS Code it is unset and notebooks run at <see cref="NotebookSize.Default"/>.
/// </summary>
public static class NotebookMode
{
    public const string EnvironmentVariable = "TRANSFORMER_LAB_NOTEBOOK_MODE";

    public static NotebookSize Size => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    public static NotebookSize Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "default" => NotebookSize.Default,
        "quick" => NotebookSize.Quick,
        _ => throw new ArgumentException($"Notebook mode '{value}' is unknown: use quick or default."),
    };

    /// <summary>The quick or the default value of a setting, by the current mode: <c>Pick(quick: 50, full: 2000)</c>.</summary>
    public static T Pick<T>(T quick, T full) => Size == NotebookSize.Quick ? quick : full;
}
