using System.Text;

namespace OxiVec.Cli.Demo;

/// <summary>Reads newline-terminated lines from a stream; a last line without its newline (a write cut short) is dropped.</summary>
internal static class LineReader
{
    public static async IAsyncEnumerable<string> ReadLinesAsync(Stream stream)
    {
        var pending = new List<byte>(128);
        byte[] buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] == (byte)'\n')
                {
                    yield return Encoding.UTF8.GetString([.. pending]);
                    pending.Clear();
                }
                else
                {
                    pending.Add(buffer[i]);
                }
            }
        }
    }
}
