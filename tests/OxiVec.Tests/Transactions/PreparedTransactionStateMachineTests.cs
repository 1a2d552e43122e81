using CsCheck;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Tests.Transactions;

/// <summary>
/// The participant's state machine against a simple model: random sequences of prepares, commits, rollbacks (of
/// known, unknown, duplicate and reordered gids), plain writes, checkpoints and restarts. After every step the
/// outcome (success or which refusal), every gid's state, the prepared list and the visible records match the model.
/// </summary>
public sealed class PreparedTransactionStateMachineTests
{
    private enum StepKind
    {
        Prepare,
        Commit,
        Rollback,
        PlainWrite,
        Restart,
        Checkpoint,
    }

    private sealed record Step(StepKind Kind, int Gid, (int Id, bool Delete)[] Writes);

    private static readonly Gen<Step> AnyStep = Gen.Select(
        Gen.Int[0, 9].Select(k => k switch { <= 2 => StepKind.Prepare, <= 4 => StepKind.Commit, <= 6 => StepKind.Rollback, 7 => StepKind.PlainWrite, 8 => StepKind.Restart, _ => StepKind.Checkpoint }),
        Gen.Int[0, 4],
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3].Select(d => d == 0)).Array[1, 3],
        (kind, gid, writes) => new Step(kind, gid, writes));

    /// <summary>The model: committed records (id → value), each gid's state, and the prepared gids' writes.</summary>
    private sealed class Model
    {
        public Dictionary<string, float> Records { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, PreparedTransactionState> States { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (string Id, float? Value)[]> Prepared { get; } = new(StringComparer.Ordinal);

        public string? Holder(string id) => Prepared.FirstOrDefault(p => p.Value.Any(w => w.Id == id)).Key;

        public PreparedTransactionState StateOf(string gid) => States.GetValueOrDefault(gid, PreparedTransactionState.Unknown);
    }

    [Fact]
    public void RandomCallSequences_WithRestarts_MatchTheModel()
    {
        AnyStep.Array[1, 30].Sample(steps =>
        {
            using var temp = new TempDirectory();
            var options = new VectorDatabaseOptions
            {
                Wal = WalConfig.HighThroughput with { SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, CheckpointInterval = 1_000_000 },
            };
            VectorDatabase db = VectorDatabase.Open(temp.Path, options);
            try
            {
                db.CreateCollection("c", new CollectionOptions(2) { Index = IndexKind.Flat });
                var model = new Model();
                for (int n = 0; n < steps.Length; n++)
                {
                    Step step = steps[n];
                    string gid = $"g{step.Gid}";
                    float value = n + 1;
                    switch (step.Kind)
                    {
                        case StepKind.Prepare:
                            Prepare(db, model, gid, step.Writes, value);
                            break;
                        case StepKind.Commit:
                            Resolve(db, model, gid, commit: true);
                            break;
                        case StepKind.Rollback:
                            Resolve(db, model, gid, commit: false);
                            break;
                        case StepKind.PlainWrite:
                            PlainWrite(db, model, $"r{step.Writes[0].Id}", value);
                            break;
                        case StepKind.Restart:
                            db.Dispose(); // the WAL is fsynced on close; power loss is covered by PreparedTransactionPowerLossTests
                            db = VectorDatabase.Open(temp.Path, options);
                            break;
                        case StepKind.Checkpoint:
                            db.Checkpoint();
                            break;
                    }

                    Check(db, model, $"after step {n} ({step.Kind} {gid})");
                }
            }
            finally
            {
                db.Dispose();
            }
        }, iter: 60);
    }

    private static void Prepare(VectorDatabase db, Model model, string gid, (int Id, bool Delete)[] writes, float value)
    {
        TransactionOperation[] operations = [.. writes.Select(w => w.Delete
            ? TransactionOperation.Delete("c", $"r{w.Id}")
            : TransactionOperation.Upsert("c", $"r{w.Id}", new[] { value, 1f }))];
        Type? expected = null;
        if (model.StateOf(gid) != PreparedTransactionState.Unknown)
        {
            expected = typeof(PreparedTransactionException);
        }
        else
        {
            var exists = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach ((int id, bool delete) in writes)
            {
                string key = $"r{id}";
                if (model.Holder(key) is not null)
                {
                    expected = typeof(TransactionConflictException);
                    break;
                }

                bool present = exists.TryGetValue(key, out bool staged) ? staged : model.Records.ContainsKey(key);
                if (delete && !present)
                {
                    expected = typeof(RecordNotFoundException);
                    break;
                }

                exists[key] = !delete;
            }
        }

        Exception? thrown = Record.Exception(() => db.PrepareTransaction(gid, operations));
        Assert.Equal(expected, thrown?.GetType());
        if (expected is null)
        {
            model.States[gid] = PreparedTransactionState.Prepared;
            model.Prepared[gid] = [.. writes.Select(w => ($"r{w.Id}", w.Delete ? (float?)null : value))];
        }
    }

    private static void Resolve(VectorDatabase db, Model model, string gid, bool commit)
    {
        PreparedTransactionState state = model.StateOf(gid);
        bool allowed = commit
            ? state is PreparedTransactionState.Prepared or PreparedTransactionState.Committed
            : state is not PreparedTransactionState.Committed;
        Exception? thrown = Record.Exception(() => (commit ? db.CommitPrepared(gid) : db.RollbackPrepared(gid)) switch
        {
            PreparedTransactionState s when s == (commit ? PreparedTransactionState.Committed : PreparedTransactionState.RolledBack) => s,
            PreparedTransactionState s => throw new InvalidOperationException($"returned {s}"),
        });
        if (!allowed)
        {
            Assert.IsType<PreparedTransactionException>(thrown);
            return;
        }

        Assert.Null(thrown);
        if (commit && model.Prepared.Remove(gid, out (string Id, float? Value)[]? writes))
        {
            foreach ((string id, float? v) in writes)
            {
                if (v is { } set)
                {
                    model.Records[id] = set;
                }
                else
                {
                    model.Records.Remove(id);
                }
            }
        }

        model.Prepared.Remove(gid);
        model.States[gid] = commit ? PreparedTransactionState.Committed : PreparedTransactionState.RolledBack;
    }

    private static void PlainWrite(VectorDatabase db, Model model, string id, float value)
    {
        Exception? thrown = Record.Exception(() => db.Upsert("c", id, new[] { value, 1f }));
        if (model.Holder(id) is { } holder)
        {
            Assert.Equal(holder, Assert.IsType<TransactionConflictException>(thrown).Gid);
            return;
        }

        Assert.Null(thrown);
        model.Records[id] = value;
    }

    private static void Check(VectorDatabase db, Model model, string where)
    {
        for (int g = 0; g <= 4; g++)
        {
            Assert.True(model.StateOf($"g{g}") == db.GetTransactionState($"g{g}"), $"{where}: g{g} is {db.GetTransactionState($"g{g}")}, the model says {model.StateOf($"g{g}")}");
        }

        Assert.Equal(model.Prepared.Keys.Order(StringComparer.Ordinal), db.ListPrepared().Select(p => p.Gid).Order(StringComparer.Ordinal));
        Dictionary<string, float> visible = db.Export("c").ToDictionary(r => r.Id, r => r.Vector.Span[0], StringComparer.Ordinal);
        Assert.True(
            visible.Count == model.Records.Count && visible.All(kv => model.Records.TryGetValue(kv.Key, out float v) && v == kv.Value),
            $"{where}: visible {string.Join(',', visible.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}, model {string.Join(',', model.Records.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}");
    }
}
