using Microsoft.Data.Sqlite;
using OxiVec.Benchmarks.Macro.Peers;

namespace OxiVec.Tests.Bench;

public class SqliteGroupCommitPeerTests
{
    [Fact]
    public void Commit_Returns_OnlyOnceItsRowIsCommitted()
    {
        using var temp = new TempDirectory();
        using var peer = new SqliteGroupCommitPeer(temp.Path, fullSync: false);
        using SqliteConnection reader = OpenReader(temp.Path);
        for (int i = 0; i < 20; i++)
        {
            peer.Commit(0, [(byte)i, 1, 2, 3]);
            Assert.Equal(i + 1, CountRows(reader));
        }
    }

    [Fact]
    public void ConcurrentWriters_EveryAcknowledgedRecordIsStoredOnce()
    {
        using var temp = new TempDirectory();
        const int Writers = 8, PerWriter = 25;
        using (var peer = new SqliteGroupCommitPeer(temp.Path, fullSync: false))
        {
            Thread[] threads = [.. Enumerable.Range(0, Writers).Select(w => new Thread(() =>
            {
                byte[] record = new byte[2];
                for (int i = 0; i < PerWriter; i++)
                {
                    // The peer must copy: the writer reuses its buffer as soon as the commit returns.
                    (record[0], record[1]) = ((byte)w, (byte)i);
                    peer.Commit(w, record);
                }
            }))];
            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                t.Join();
            }
        }

        using SqliteConnection reader = OpenReader(temp.Path);
        using SqliteCommand select = reader.CreateCommand();
        select.CommandText = "SELECT payload FROM records";
        var seen = new HashSet<(byte, byte)>();
        using (SqliteDataReader rows = select.ExecuteReader())
        {
            while (rows.Read())
            {
                byte[] payload = (byte[])rows[0];
                Assert.True(seen.Add((payload[0], payload[1])), $"record {payload[0]}/{payload[1]} stored twice");
            }
        }

        Assert.Equal(Writers * PerWriter, seen.Count);
    }

    private static SqliteConnection OpenReader(string dir)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dir, "records.sqlite"), Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static long CountRows(SqliteConnection reader)
    {
        using SqliteCommand count = reader.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM records";
        return (long)count.ExecuteScalar()!;
    }
}
