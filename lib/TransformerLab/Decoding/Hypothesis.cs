namespace TransformerLab.Decoding;

/// <summary>One output sequence: its tokens (no BOS, no EOS), total log-probability and the score it was ranked by.</summary>
public sealed record Hypothesis(long[] Tokens, double LogProbability, double Score, bool Finished);
