namespace OxiVec.Cli;

/// <summary>Console conventions shared by the commands.</summary>
internal static class Cli
{
    /// <summary>
    /// True when stdout is a terminal: commands then use Spectre.Console (colours, tables, spinners). When stdout is
    /// redirected they print plain, stable text for scripts.
    /// </summary>
    public static bool IsInteractive => !Console.IsOutputRedirected;

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
