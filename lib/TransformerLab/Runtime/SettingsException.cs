namespace TransformerLab.Runtime;

/// <summary>A bad setting key or value; the message names it and what is expected.</summary>
public sealed class SettingsException(string message) : Exception(message);
