using OxiVec.Cli;

return await OxiVecCli.RunAsync(args).ConfigureAwait(false);
