using CsCheck;
using OxiVec.Storage;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The partitioned id map behaves as a dictionary (CsCheck, against the BCL as a model). Its keys live in an
/// <see cref="IdColumn"/>: as in a collection, an id is written into its slot before the map gets that slot, and each
/// put uses a fresh slot (a collection never gives one slot two live ids).
/// </summary>
public sealed class IdMapTests
{
    private static readonly Gen<string> AnyId = Gen.OneOf(
        Gen.Int[0, 300].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.String[Gen.Char["aAé0-"], 0, 6],
        Gen.String[Gen.Char["ab"], IdColumn.InlineChars - 1, IdColumn.InlineChars + 2]); // inline and overflow ids

    // 0: set, 1: try-add, 2: remove, 3: lookup
    private static readonly Gen<(int Op, string Id)> AnyOperation = Gen.Select(Gen.Int[0, 3], AnyId);

    [Fact]
    public void IdMap_BehavesAsADictionary()
    {
        AnyOperation.Array[0, 400].Select(Gen.Int[0, 2000]).Sample((operations, hint) =>
        {
            var column = new IdColumn();
            var map = new IdMap(column);
            map.EnsureCapacity(hint);
            var model = new Dictionary<string, int>(StringComparer.Ordinal);
            int next = 0;
            foreach ((int op, string id) in operations)
            {
                int slot = next++;
                column.EnsureSlot(slot);
                column.Set(slot, id);
                Assert.Equal(id, column.Get(slot));
                switch (op)
                {
                    case 0:
                        map.Set(id, slot);
                        model[id] = slot;
                        break;
                    case 1:
                        Assert.Equal(model.TryAdd(id, slot), map.TryAdd(id, slot));
                        break;
                    case 2:
                        bool removed = model.Remove(id, out int expectedSlot);
                        Assert.Equal(removed, map.Remove(id, out int actualSlot));
                        if (removed)
                        {
                            Assert.Equal(expectedSlot, actualSlot);
                        }

                        break;
                    default:
                        Assert.Equal(model.TryGetValue(id, out int expected), map.TryGetValue(id, out int actual));
                        Assert.Equal(expected, actual);
                        Assert.Equal(model.ContainsKey(id), map.ContainsKey(id));
                        break;
                }

                Assert.Equal(model.Count, map.Count);
            }

            Assert.Equal(model.Keys.Order(StringComparer.Ordinal), map.Keys().Order(StringComparer.Ordinal));
            map.EnsureCapacity(model.Count * 4); // growing existing partitions keeps every entry
            foreach ((string id, int slot) in model)
            {
                Assert.True(map.TryGetValue(id, out int actual));
                Assert.Equal(slot, actual);
            }
        });
    }

    [Fact]
    public void ManyIds_SpreadOverPartitions_AllFoundAfterGrowth()
    {
        var column = new IdColumn();
        var map = new IdMap(column);
        const int Ids = 100_000;
        for (int i = 0; i < Ids; i++)
        {
            column.EnsureSlot(i);
            column.Set(i, $"id-{i}");
            Assert.True(map.TryAdd($"id-{i}", i));
        }

        Assert.Equal(Ids, map.Count);
        Assert.Equal(Ids, map.Keys().Distinct(StringComparer.Ordinal).Count());
        for (int i = 0; i < Ids; i += 7)
        {
            Assert.True(map.TryGetValue($"id-{i}", out int slot));
            Assert.Equal(i, slot);
        }

        Assert.False(map.TryAdd("id-5", 0));
        Assert.True(map.Remove("id-5", out int removed));
        Assert.Equal(5, removed);
        Assert.False(map.ContainsKey("id-5"));
        Assert.Equal(Ids - 1, map.Count);
    }
}
