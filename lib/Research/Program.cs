using TransformerLab.Cli;

return ResearchCli.Run(ResearchCli.Root(), args);
