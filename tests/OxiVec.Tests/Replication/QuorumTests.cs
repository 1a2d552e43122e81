using System.Collections.Immutable;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Replication;

namespace OxiVec.Tests.Replication;

public sealed class QuorumTests
{
    private static readonly string[] Names = ["a", "b", "c", "d"];

    /// <summary>One event: a standby connects (with its LSN), disconnects, or reports progress.</summary>
    private sealed record Event(int Standby, int Kind, long Lsn);

    private static readonly Gen<Event> AnyEvent = Gen.Select(Gen.Int[0, Names.Length - 1], Gen.Int[0, 2], Gen.Long[0, 40], (s, k, l) => new Event(s, k, l));

    private static readonly Gen<SynchronousStandbyPolicy> AnyPolicy =
        Gen.Select(Gen.Bool, Gen.Int[1, 4], Gen.Shuffle(Names, 1, 4), (first, n, names) =>
            new SynchronousStandbyPolicy(first ? SynchronousMethod.First : SynchronousMethod.Any, Math.Min(n, names.Length), [.. names]));

    /// <summary>
    /// The model, written differently from the engine: a commit at LSN x is confirmed when, for FIRST n, every one of
    /// the first n connected listed standbys is at x or beyond; for ANY n, at least n connected listed standbys are.
    /// </summary>
    private static bool ModelConfirms(SynchronousStandbyPolicy policy, Dictionary<string, (bool Connected, long Lsn)> state, long x, TooFewStandbysBehavior whenTooFew)
    {
        List<string> connected = [.. policy.Names.Where(n => state.TryGetValue(n, out var s) && s.Connected)];
        if (connected.Count < policy.Count)
        {
            return whenTooFew == TooFewStandbysBehavior.DegradeToAsync;
        }

        return policy.Method == SynchronousMethod.First
            ? connected.Take(policy.Count).All(n => state[n].Lsn >= x)
            : connected.Count(n => state[n].Lsn >= x) >= policy.Count;
    }

    [Fact]
    public void Gate_UnderRandomConnectDisconnectAndProgress_ReleasesExactlyTheCommitsTheModelConfirms()
    {
        Gen.Select(AnyPolicy, AnyEvent.Array[0, 30], Gen.Bool).Sample((policy, events, degrade) =>
        {
            TooFewStandbysBehavior whenTooFew = degrade ? TooFewStandbysBehavior.DegradeToAsync : TooFewStandbysBehavior.Block;
            var gate = new SyncCommitGate(policy, whenTooFew, NullLogger.Instance, () => { });
            var state = new Dictionary<string, (bool Connected, long Lsn)>(StringComparer.Ordinal);
            gate.Update(new Dictionary<string, StandbyPosition>());
            foreach (Event e in events)
            {
                string name = Names[e.Standby];
                (bool connected, long lsn) = state.GetValueOrDefault(name);
                state[name] = e.Kind switch
                {
                    0 => (true, e.Lsn),
                    1 => (false, lsn),
                    _ => (connected, Math.Max(lsn, e.Lsn)),
                };
                gate.Update(state.ToDictionary(p => p.Key, p => new StandbyPosition(p.Value.Connected, p.Value.Lsn), StringComparer.Ordinal));

                // A commit arriving now, at any LSN: released at once exactly when the model confirms it.
                for (long x = 1; x <= 41; x += 4)
                {
                    Assert.Equal(ModelConfirms(policy, state, x, whenTooFew), gate.WaitConfirmedAsync(x).IsCompleted);
                }
            }
        });
    }

    [Fact]
    public void Gate_AWaitingCommit_IsReleasedWhenTheSetConfirmsIt_AndFailsWhenTheReplicatorStops()
    {
        var gate = new SyncCommitGate(new SynchronousStandbyPolicy(SynchronousMethod.Any, 2, ["a", "b", "c"]), TooFewStandbysBehavior.Block, NullLogger.Instance, () => { });
        Dictionary<string, StandbyPosition> at(long a, long b, long c) => new() { ["a"] = new(true, a), ["b"] = new(true, b), ["c"] = new(true, c) };
        gate.Update(at(0, 0, 0));
        Task ten = gate.WaitConfirmedAsync(10);
        Task twenty = gate.WaitConfirmedAsync(20);
        gate.Update(at(15, 0, 0));
        Assert.False(ten.IsCompleted);
        gate.Update(at(15, 0, 12));
        Assert.True(ten.IsCompleted);
        Assert.False(twenty.IsCompleted);
        gate.Close();
        Assert.IsType<ObjectDisposedException>(twenty.Exception?.InnerException);
    }

    [Theory]
    [InlineData("FIRST 1 (a)", SynchronousMethod.First, 1, "a")]
    [InlineData("  any 2 ( s1 , s-2,s.3 )  ", SynchronousMethod.Any, 2, "s1,s-2,s.3")]
    [InlineData("First 2 (a, b, c)", SynchronousMethod.First, 2, "a,b,c")]
    public void Policy_Parses(string text, SynchronousMethod method, int count, string names)
    {
        SynchronousStandbyPolicy policy = SynchronousStandbyPolicy.Parse(text)!;
        Assert.Equal(new SynchronousStandbyPolicy(method, count, [.. names.Split(',')]).ToString(), policy.ToString());
        Assert.Equal(method, policy.Method);
        Assert.Equal(count, policy.Count);
        Assert.Equal(names.Split(','), policy.Names.ToArray());
    }

    [Theory]
    [InlineData("SOME 1 (a)", 0, "FIRST or ANY")]
    [InlineData("FIRST x (a)", 6, "number")]
    [InlineData("FIRST 0 (a)", 6, "number")]
    [InlineData("FIRST 1 a", 8, "'('")]
    [InlineData("ANY 1 (a, )", 10, "standby name")]
    [InlineData("ANY 1 (a, a)", 10, "listed twice")]
    [InlineData("ANY 3 (a, b)", 4, "only 2 are listed")]
    [InlineData("ANY 1 (a) x", 10, "after ')'")]
    [InlineData("ANY 1 (a", 8, "')'")]
    public void Policy_ParseError_NamesTheStringAndThePosition(string text, int position, string problem)
    {
        FormatException ex = Assert.Throws<FormatException>(() => SynchronousStandbyPolicy.Parse(text));
        Assert.Contains($"'{text}'", ex.Message);
        Assert.Contains($"position {position}", ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.Throws<ArgumentException>(() => new ReplicationOptions { SynchronousStandbys = text }.Validate());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Policy_NullOrBlank_IsAsynchronous(string? text) => Assert.Null(SynchronousStandbyPolicy.Parse(text));

    [Fact]
    public void Replicator_RequiresEnableReplication_AndRefusesAStandby()
    {
        using var temp = new TempDirectory();
        using (var plain = OxiVec.Storage.VectorDatabase.Open(temp.Sub("p"), ReplicationHarness.Options() with { Wal = ReplicationHarness.Options().Wal with { EnableReplication = false } }))
        {
            InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => new WalReplicator(plain, new ReplicationOptions()));
            Assert.Contains("EnableReplication", ex.Message);
        }

        using var standby = OxiVec.Storage.VectorDatabase.OpenStandby(temp.Sub("s"), ReplicationHarness.Options(), null);
        Assert.Throws<InvalidOperationException>(() => new WalReplicator(standby, new ReplicationOptions()));
        _ = ImmutableArray<string>.Empty;
    }
}
