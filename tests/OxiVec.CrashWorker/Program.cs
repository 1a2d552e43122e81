using System.CommandLine;
using System.CommandLine.Help;
using OxiVec.Cli;
using OxiVec.CrashWorker;

// The three victims of the crash tests, as they were when they were hidden commands of the oxivec CLI.
var root = new Command("oxivec-crash-worker", "The crash tests' worker: writes until killed, printing an acknowledgement line after each durable write.")
{
    new HelpOption(),
};
root.Subcommands.Add(CrashWorkerCommand.Create());
root.Subcommands.Add(CrashStoreWorkerCommand.Create());
root.Subcommands.Add(CrashTortureWorkerCommand.Create());
root.Subcommands.Add(Crash2pcWorkerCommand.Create());
return await OxiVecCli.RunAsync(root, args).ConfigureAwait(false);
