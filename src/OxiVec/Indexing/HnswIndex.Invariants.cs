using System.Diagnostics;

namespace OxiVec.Indexing;

/// <summary>Structural self-checks.</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// In DEBUG builds, checks the graph's invariants (see <see cref="ValidateInvariants"/>) and throws
    /// <see cref="InvalidOperationException"/> on the first violation. Compiled out of release callers.
    /// </summary>
    [Conditional("DEBUG")]
    internal void AssertInvariants() => ValidateInvariantsCore();

    /// <summary>
    /// Checks, with the writer lock held exclusively: live and deleted counts match the slot states; every node's
    /// level is at most the top level and its upper lists match its level; every neighbour exists (not free), is
    /// not the node itself, appears once, and reaches the layer; degrees are within M (MaxM0 on layer 0); the
    /// entry point is a node on the top level, or -1 exactly when the graph is empty.
    /// </summary>
    /// <exception cref="InvalidOperationException">The first violation found.</exception>
    internal void ValidateInvariants()
    {
        _writers.EnterWriteLock();
        try
        {
            ValidateInvariantsCore();
        }
        finally
        {
            _writers.ExitWriteLock();
        }
    }

    private void ValidateInvariantsCore()
    {
        HnswGraphView graph = View();
        (int entry, int maxLevel) = Unpack(Volatile.Read(ref _top));
        int live = 0;
        int deleted = 0;
        int topLevel = -1;
        var seen = new HashSet<int>();
        for (int node = 0; node < graph.HighWater; node++)
        {
            byte state = graph.State(node);
            if (state == SlotState.Free)
            {
                continue;
            }

            Check(state is SlotState.Live or SlotState.Deleted, $"slot {node} has unknown state {state}");
            live += state == SlotState.Live ? 1 : 0;
            deleted += state == SlotState.Deleted ? 1 : 0;
            int level = LevelOf(node);
            Check(level >= 0 && level <= maxLevel, $"node {node} has level {level} but the top level is {maxLevel}");
            topLevel = Math.Max(topLevel, level);
            int[]? upper = _upper.Read(node)[0];
            Check(
                level == 0 ? upper is null : upper?.Length == 1 + (level * (_m + 1)),
                $"node {node} has upper lists that do not match its level {level}");
            for (int layer = 0; layer <= level; layer++)
            {
                int count = BlockForRead(node, layer)[0];
                Check(
                    count >= 0 && count <= MaxDegree(layer),
                    $"node {node} has {count} links on layer {layer}; the maximum is {MaxDegree(layer)}");
                seen.Clear();
                foreach (int neighbour in graph.Links(node, layer))
                {
                    Check(neighbour >= 0 && neighbour < graph.HighWater, $"node {node} links to {neighbour}, out of range");
                    Check(neighbour != node, $"node {node} links to itself on layer {layer}");
                    Check(graph.State(neighbour) != SlotState.Free, $"node {node} links to freed slot {neighbour} on layer {layer}");
                    Check(LevelOf(neighbour) >= layer, $"node {node} links to {neighbour} on layer {layer} above its level");
                    Check(seen.Add(neighbour), $"node {node} links to {neighbour} twice on layer {layer}");
                }
            }
        }

        Check(live == _live, $"{live} live slots but the count is {_live}");
        Check(deleted == _deleted, $"{deleted} deleted slots but the count is {_deleted}");
        if (live + deleted == 0)
        {
            Check(entry == -1 && maxLevel == -1, $"empty graph with entry point {entry} and top level {maxLevel}");
        }
        else
        {
            Check(entry >= 0 && entry < graph.HighWater && graph.State(entry) != SlotState.Free, $"entry point {entry} is not a node");
            Check(LevelOf(entry) == maxLevel, $"entry point {entry} has level {LevelOf(entry)}, not the top level {maxLevel}");
            Check(topLevel == maxLevel, $"the highest node level is {topLevel} but the top level is {maxLevel}");
        }
    }

    /// <summary>The raw block of a node on a layer (count unclamped), for the checks.</summary>
    private ReadOnlySpan<int> BlockForRead(int node, int layer) =>
        layer == 0 ? _layer0.Read(node) : _upper.Read(node)[0].AsSpan(1 + ((layer - 1) * (_m + 1)), _m + 1);

    private static void Check(bool condition, string violation)
    {
        if (!condition)
        {
            throw new InvalidOperationException("HNSW invariant violated: " + violation + ".");
        }
    }
}
