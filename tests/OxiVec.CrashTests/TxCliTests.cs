using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.CrashTests;

/// <summary><c>oxivec tx list|commit|rollback</c> as child processes: an operator resolving in-doubt transactions by hand.</summary>
public sealed class TxCliTests
{
    private static void PrepareTwo(string data)
    {
        using VectorDatabase db = VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = WalConfig.MaximumDurability });
        db.CreateCollection("c", new CollectionOptions(2) { Index = IndexKind.Flat });
        db.Insert("c", "a", new float[] { 1, 0 });
        db.PrepareTransaction("tx-commit", [TransactionOperation.Upsert("c", "n", new float[] { 0, 1 }), TransactionOperation.Delete("c", "a")], new PrepareOptions { CoordinatorId = "coord-1" });
        db.PrepareTransaction("tx-rollback", [TransactionOperation.Upsert("c", "r", new float[] { 1, 1 })]);
    }

    [Fact]
    public async Task List_ShowsTheInDoubtTransactions_CommitAndRollbackResolveThem_Idempotently()
    {
        using var dir = new TempDirectory();
        PrepareTwo(dir.Path);

        CliResult list = await Ok("tx", "list", "--data", dir.Path, "--json");
        JsonElement[] rows = [.. list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];
        Assert.Equal(["tx-commit", "tx-rollback"], rows.Select(r => r.GetProperty("gid").GetString()));
        Assert.Equal("coord-1", rows[0].GetProperty("coordinator").GetString());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("coordinator").ValueKind);
        Assert.Equal(2, rows[0].GetProperty("operation_count").GetInt32());
        Assert.True(rows[0].GetProperty("age_seconds").GetDouble() >= 0);
        Assert.Contains("tx-commit", (await Ok("tx", "list", "--data", dir.Path)).Stdout, StringComparison.Ordinal);

        Assert.Equal("committed", Parse((await Ok("tx", "commit", "--data", dir.Path, "tx-commit", "--json")).Stdout).GetProperty("state").GetString());
        Assert.Equal("rolled_back", Parse((await Ok("tx", "rollback", "--data", dir.Path, "tx-rollback", "--json")).Stdout).GetProperty("state").GetString());
        await Ok("tx", "commit", "--data", dir.Path, "tx-commit"); // idempotent
        await Ok("tx", "rollback", "--data", dir.Path, "tx-rollback");
        Assert.Equal("", (await Ok("tx", "list", "--data", dir.Path, "--json")).Stdout);

        using VectorDatabase db = VectorDatabase.Open(dir.Path);
        Assert.NotNull(db.Get("c", "n"));
        Assert.Null(db.Get("c", "a"));
        Assert.Null(db.Get("c", "r"));
        Assert.Equal(PreparedTransactionState.Committed, db.GetTransactionState("tx-commit"));
        Assert.Equal(PreparedTransactionState.RolledBack, db.GetTransactionState("tx-rollback"));
    }

    [Fact]
    public async Task Commit_OfAnUnknownOrRolledBackGid_AndRollbackOfACommittedOne_FailWithExitCode1NamingTheGid()
    {
        using var dir = new TempDirectory();
        PrepareTwo(dir.Path);
        await Ok("tx", "commit", "--data", dir.Path, "tx-commit");
        await Ok("tx", "rollback", "--data", dir.Path, "tx-rollback");

        foreach (string[] args in new[] { new[] { "commit", "nope" }, ["commit", "tx-rollback"], ["rollback", "tx-commit"] })
        {
            CliResult result = await CliProcess.RunAsync(["tx", args[0], "--data", dir.Path, args[1]]);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains($"'{args[1]}'", result.Stderr, StringComparison.Ordinal);
        }
    }

    private static async Task<CliResult> Ok(params string[] arguments)
    {
        CliResult result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"oxivec {string.Join(' ', arguments)}: {result}");
        return result;
    }

    private static JsonElement Parse(string line)
    {
        using JsonDocument doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }
}
