namespace OxiVec.Cli;

/// <summary>Console conventions shared by the commands.</summary>
internal static class Cli
{
    /// <summary>
    /// True when stdout is a terminal: commands then use Spectre.Console (colours, tables, spinners). When stdout is
    /// redirected they print plain, stable text for scripts.
    /// </summary>
    public static bool IsInteractive => !Console.IsOutputRedirected;

    /// <summary>
    /// Runs a long synchronous command on the thread pool. System.CommandLine installs its Ctrl+C / SIGTERM handler
    /// (which cancels the action's token) only once the action has returned its task, so an action that did its work
    /// before returning would be killed by Ctrl+C instead of stopping cleanly.
    /// </summary>
    public static Task<int> RunInBackground(Func<int> work) => Task.Run(work, CancellationToken.None);

    /// <summary>Writes <c>oxivec: message</c> to stderr as one line and returns <paramref name="exitCode"/>.</summary>
    public static int Fail(int exitCode, string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"{OxiVecCli.Name}: {message.ReplaceLineEndings(" ")}");
        return exitCode;
    }

    /// <summary>
    /// Checks that <paramref name="walDir"/> is a directory holding WAL segment files; returns null when it is, else
    /// the one-line error to print (exit code <see cref="ExitCodes.Usage"/>).
    /// </summary>
    public static string? CheckWalDirectory(string walDir)
    {
        if (File.Exists(walDir))
        {
            return $"'{walDir}' is a file; pass --wal the directory that holds the *.wal segment files.";
        }

        if (!Directory.Exists(walDir))
        {
            return $"WAL directory '{walDir}' does not exist; pass --wal the directory that holds the *.wal segment files.";
        }

        if (!Directory.EnumerateFiles(walDir, "*.wal").Any())
        {
            return $"'{walDir}' holds no WAL segment files (*.wal); pass --wal the directory that holds them.";
        }

        return null;
    }
}
