using System.CommandLine;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>--keep-last N</c> for the commands that write (and so checkpoint): the CLI does not know the application's
/// retention policy, so without the option nothing is deleted (<see cref="RetentionPolicy.KeepAll"/>), as
/// <c>checkpoint</c> and <c>recover</c> do.
/// </summary>
internal static class RetentionOption
{
    public static Option<int?> Create() => new("--keep-last")
    {
        Description = "After each checkpoint this command writes, keep only the newest N valid checkpoints and delete the older ones, with the WAL segments only they needed (RetentionPolicy.KeepLast(N)). Default: delete nothing.",
        HelpName = "N",
    };

    /// <summary>The usage error for a bad value, or null.</summary>
    public static string? Check(int? keepLast) => keepLast is < 1 ? "--keep-last must be 1 or more (leave it out to delete nothing)." : null;

    /// <summary>The retention policy the user asked for: <c>KeepLast(N)</c>, or <see cref="RetentionPolicy.KeepAll"/> without the option.</summary>
    public static RetentionPolicy Policy(int? keepLast) => keepLast is { } n ? RetentionPolicy.KeepLast(n) : RetentionPolicy.KeepAll;
}
