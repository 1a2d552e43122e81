using Microsoft.Extensions.Options;

namespace OxiVec.Hosting;

/// <summary>Validates <see cref="OxiVecOptions"/> when the host starts (a bad setting stops the start, naming it).</summary>
internal sealed class OxiVecOptionsValidator : IValidateOptions<OxiVecOptions>
{
    public ValidateOptionsResult Validate(string? name, OxiVecOptions options)
    {
        IReadOnlyList<string> problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
