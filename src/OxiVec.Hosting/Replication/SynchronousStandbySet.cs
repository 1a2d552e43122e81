using System.Text.RegularExpressions;

namespace OxiVec.Hosting.Replication;

/// <summary>
/// Checks the form of <c>OxiVec:Replication:SynchronousStandbys</c> when the host starts, so a typo stops the start
/// naming the setting instead of failing when the replicator is created: <c>FIRST n (a, b, ...)</c> or
/// <c>ANY n (a, b, ...)</c>, 1 &lt;= n &lt;= the number of distinct names.
/// </summary>
internal static partial class SynchronousStandbySet
{
    [GeneratedRegex(@"^\s*(FIRST|ANY)\s+(\d{1,4})\s*\(([^()]*)\)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Form();

    public static bool TryParse(string value, out string? error)
    {
        Match match = Form().Match(value);
        if (!match.Success)
        {
            error = $"'{value}' must be FIRST n (name, ...) or ANY n (name, ...), e.g. \"FIRST 1 (a, b)\" or \"ANY 2 (a, b, c)\".";
            return false;
        }

        string[] names = [.. match.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries)];
        int n = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (names.Any(string.IsNullOrEmpty))
        {
            error = $"'{value}' has an empty standby name.";
            return false;
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            error = $"'{value}' names a standby twice.";
            return false;
        }

        if (n < 1 || n > names.Length)
        {
            error = $"'{value}' waits for {n} standbys of {names.Length} listed; n must be between 1 and the number of names.";
            return false;
        }

        error = null;
        return true;
    }
}
