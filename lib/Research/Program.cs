using TransformerLab.Cli;

TransformerLab.Runtime.OpenMpWaitPolicy.Apply(); // before anything loads LibTorch: its OpenMP reads the policy once, at load

return ResearchCli.Run(ResearchCli.Root(), args);
