namespace OxiVec.Cli.Data;

/// <summary>A vector file is malformed: the message names the file, the row or line, and what is wrong (exit code 1).</summary>
internal sealed class InputFileException : CliException
{
    /// <param name="path">The file as the user named it.</param>
    /// <param name="where">"line 3", "row 17 (byte offset 2048)", "header"; null for the file as a whole.</param>
    /// <param name="what">What is wrong.</param>
    public InputFileException(string path, string? where, string what, Exception? innerException = null)
        : base(ExitCodes.Usage, where is null ? $"{path}: {what}" : $"{path}: {where}: {what}", innerException)
    {
        FilePath = path;
    }

    public InputFileException()
        : this("", null, "bad input file")
    {
    }

    public InputFileException(string message)
        : this("", null, message)
    {
    }

    public InputFileException(string message, Exception innerException)
        : this("", null, message, innerException)
    {
    }

    /// <summary>The file as the user named it.</summary>
    public string FilePath { get; } = "";
}
