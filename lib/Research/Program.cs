using System.CommandLine;
using TransformerLab.Cli;
using TransformerLab.Cli.Commands;

var root = new RootCommand("Transformer Lab for .NET: the Transformer from its parts, each idea reproduced by an experiment.")
{
    DoctorCommand.Create(),
};
return Cli.Run(root, args);
