using OxiVec.Samples.SemanticSearch;

return await SemanticSearchCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
