using System.Globalization;
using System.Text;

namespace OxiVec.CrashWorker;

/// <summary>
/// The lines the crash worker prints on stdout, each written and flushed with one write call:
/// <c>ready &lt;lastLsn&gt;</c> once the WAL is open (its last LSN after recovery), then
/// <c>ack &lt;lsn&gt;</c> after each acknowledged insert and
/// <c>ack &lt;commitLsn&gt; tx &lt;firstMemberLsn&gt; &lt;count&gt;</c> after each acknowledged transaction.
/// A line is printed only after the append returned, that is after an fsync covered it.
/// </summary>
internal sealed class AckProtocol : IDisposable
{
    private readonly Stream _output;
    private readonly Lock _lock = new();

    public AckProtocol(Stream output) => _output = output;

    public void Ready(long lastLsn) => Write(string.Create(CultureInfo.InvariantCulture, $"ready {lastLsn}\n"));

    public void Ack(long lsn) => Write(string.Create(CultureInfo.InvariantCulture, $"ack {lsn}\n"));

    public void AckTransaction(long commitLsn, long firstMemberLsn, int count) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"ack {commitLsn} tx {firstMemberLsn} {count}\n"));

    /// <summary>An acknowledgement as parsed from a line.</summary>
    /// <param name="Lsn">The acknowledged LSN (a transaction's commit record).</param>
    /// <param name="FirstMemberLsn">For a transaction, its first member's LSN; otherwise 0.</param>
    /// <param name="Count">For a transaction, its member count; otherwise 0.</param>
    public readonly record struct Acknowledgement(long Lsn, long FirstMemberLsn, int Count)
    {
        public bool IsTransaction => Count > 0;
    }

    /// <summary>Parses an <c>ack</c> line (without its newline).</summary>
    public static bool TryParseAck(string line, out Acknowledgement ack)
    {
        ack = default;
        string[] parts = line.Split(' ');
        if (parts.Length == 2 && parts[0] == "ack" && TryLong(parts[1], out long lsn))
        {
            ack = new Acknowledgement(lsn, 0, 0);
            return true;
        }

        if (parts.Length == 5 && parts[0] == "ack" && parts[2] == "tx" && TryLong(parts[1], out lsn)
            && TryLong(parts[3], out long first) && int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            ack = new Acknowledgement(lsn, first, count);
            return true;
        }

        return false;
    }

    /// <summary>Parses a <c>ready</c> line.</summary>
    public static bool TryParseReady(string line, out long lastLsn)
    {
        lastLsn = 0;
        return line.StartsWith("ready ", StringComparison.Ordinal) && TryLong(line["ready ".Length..], out lastLsn);
    }

    public void Dispose() => _output.Dispose();

    private static bool TryLong(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private void Write(string line)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(line);
        lock (_lock)
        {
            // One write call per line (well under PIPE_BUF), flushed at once: a reader sees whole lines only.
            _output.Write(bytes);
            _output.Flush();
        }
    }
}
