using Microsoft.Extensions.Options;

namespace OxiVec.Hosting.Server;

/// <summary>Validates <see cref="ServerOptions"/> when the host starts (a bad setting stops the start, naming it).</summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        IReadOnlyList<string> problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
