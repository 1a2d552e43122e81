namespace OxiVec.Cli.Output;

/// <summary>Buffered access to stdout for bulk, plain output (flushed before any error is printed and on dispose).</summary>
internal sealed class StdOut : IDisposable
{
    public StdOut()
    {
        Stream = new BufferedStream(Console.OpenStandardOutput(), 64 << 10);
        Text = new StreamWriter(Stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 << 10, leaveOpen: true)
        {
            NewLine = "\n",
        };
    }

    /// <summary>The raw stream (for JSON); flush <see cref="Text"/> before mixing the two.</summary>
    public Stream Stream { get; }

    /// <summary>A text writer over <see cref="Stream"/>.</summary>
    public TextWriter Text { get; }

    public void Flush()
    {
        Text.Flush();
        Stream.Flush();
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            Text.Dispose();
            Stream.Dispose();
        }
    }
}
