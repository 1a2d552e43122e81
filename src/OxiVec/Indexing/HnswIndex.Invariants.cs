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
    /// Checks, under the read lock: live and deleted counts match the slot states; every node's level is at most
    /// the top level and its upper lists match its level; every neighbour exists (not free), is not the node
    /// itself, appears once, and reaches the layer; degrees are within M (MaxM0 on layer 0); the entry point is a
    /// node on the top level, or -1 exactly when the graph is empty.
    /// </summary>
    /// <exception cref="InvalidOperationException">The first violation found.</exception>
    internal void ValidateInvariants()
    {
        _lock.EnterReadLock();
        try
        {
            ValidateInvariantsCore();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void ValidateInvariantsCore()
    {
        int live = 0;
        int deleted = 0;
        int topLevel = -1;
        var seen = new HashSet<int>();
        for (int node = 0; node < _highWater; node++)
        {
            byte state = _state[node];
            if (state == SlotState.Free)
            {
                continue;
            }

            Check(state is SlotState.Live or SlotState.Deleted, $"slot {node} has unknown state {state}");
            live += state == SlotState.Live ? 1 : 0;
            deleted += state == SlotState.Deleted ? 1 : 0;
            int level = _level[node];
            Check(level >= 0 && level <= _maxLevel, $"node {node} has level {level} but the top level is {_maxLevel}");
            topLevel = Math.Max(topLevel, level);
            Check(
                level == 0 ? _upper[node] is null : _upper[node]?.Length == level * (_m + 1),
                $"node {node} has upper lists that do not match its level {level}");
            for (int layer = 0; layer <= level; layer++)
            {
                int count = LinkBlock(node, layer)[0];
                Check(
                    count >= 0 && count <= MaxDegree(layer),
                    $"node {node} has {count} links on layer {layer}; the maximum is {MaxDegree(layer)}");
                seen.Clear();
                foreach (int neighbour in Links(node, layer))
                {
                    Check(neighbour >= 0 && neighbour < _highWater, $"node {node} links to {neighbour}, out of range");
                    Check(neighbour != node, $"node {node} links to itself on layer {layer}");
                    Check(_state[neighbour] != SlotState.Free, $"node {node} links to freed slot {neighbour} on layer {layer}");
                    Check(_level[neighbour] >= layer, $"node {node} links to {neighbour} on layer {layer} above its level");
                    Check(seen.Add(neighbour), $"node {node} links to {neighbour} twice on layer {layer}");
                }
            }
        }

        Check(live == _live, $"{live} live slots but the count is {_live}");
        Check(deleted == _deleted, $"{deleted} deleted slots but the count is {_deleted}");
        if (live + deleted == 0)
        {
            Check(_entry == -1 && _maxLevel == -1, $"empty graph with entry point {_entry} and top level {_maxLevel}");
        }
        else
        {
            Check(_entry >= 0 && _entry < _highWater && _state[_entry] != SlotState.Free, $"entry point {_entry} is not a node");
            Check(_level[_entry] == _maxLevel, $"entry point {_entry} has level {_level[_entry]}, not the top level {_maxLevel}");
            Check(topLevel == _maxLevel, $"the highest node level is {topLevel} but the top level is {_maxLevel}");
        }
    }

    private static void Check(bool condition, string violation)
    {
        if (!condition)
        {
            throw new InvalidOperationException("HNSW invariant violated: " + violation + ".");
        }
    }
}
