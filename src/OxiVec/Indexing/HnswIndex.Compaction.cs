namespace OxiVec.Indexing;

/// <summary>Dropping tombstones while keeping the graph navigable.</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// Repairs and drops every tombstone; the caller holds the writer lock exclusively (searches run on). Phases:
    /// (1) find each live node and layer whose list holds a tombstone; (2) in parallel, re-select that list with
    /// the heuristic among the node's live neighbours and the live nodes within two tombstone hops (the deleted
    /// neighbours' neighbours), reading only the old graph; (3) write the new lists; (4) choose a new entry point
    /// if it is a tombstone, before (5) the tombstones' slots are freed (their lists emptied, their upper lists
    /// dropped; a search still holding a link to one reads an empty list and a stale vector, and never accepts it);
    /// (6) link again any live node no longer reachable on layer 0.
    /// </summary>
    /// <returns>The number of slots released.</returns>
    private int CompactCore()
    {
        if (_deleted == 0)
        {
            return 0;
        }

        HnswGraphView graph = View();
        var work = new List<(int Node, int Layer)>();
        for (int node = 0; node < graph.HighWater; node++)
        {
            if (graph.State(node) != SlotState.Live)
            {
                continue;
            }

            for (int layer = 0; layer <= LevelOf(node); layer++)
            {
                foreach (int neighbour in graph.Links(node, layer))
                {
                    if (graph.State(neighbour) == SlotState.Deleted)
                    {
                        work.Add((node, layer));
                        break;
                    }
                }
            }
        }

        var lists = new int[work.Count][];
        Parallel.For(
            0,
            work.Count,
            () => _scratch.Rent(),
            (i, _, scratch) =>
            {
                lists[i] = RepairedLinks(graph, work[i].Node, work[i].Layer, scratch);
                return scratch;
            },
            _scratch.Return);

        for (int i = 0; i < work.Count; i++)
        {
            SetLinks(work[i].Node, work[i].Layer, lists[i]);
        }

        if (graph.State(EntryPoint) == SlotState.Deleted)
        {
            ChooseEntryPoint(graph);
        }

        int released = 0;
        for (int node = 0; node < graph.HighWater; node++)
        {
            if (graph.State(node) != SlotState.Deleted)
            {
                continue;
            }

            Volatile.Write(ref _states.Write(node)[0], SlotState.Free);
            Volatile.Write(ref _layer0.Write(node)[0], 0);
            Volatile.Write(ref _upper.Write(node)[0], null);
            _levels.Write(node)[0] = 0;
            _released.Add(node);
            released++;
        }

        Volatile.Write(ref _deleted, 0);
        RelinkUnreachable();
        Interlocked.Increment(ref _compactions);
        AssertInvariants();
        return released;
    }

    /// <summary>The new neighbour list of a live node on a layer, avoiding tombstones. Reads the graph only.</summary>
    private int[] RepairedLinks(in HnswGraphView graph, int node, int layer, HnswScratch scratch)
    {
        int max = MaxDegree(layer);
        int cap = Math.Max(_efConstruction, 4 * max);
        VisitedSet visited = scratch.Visited;
        visited.Reset(graph.HighWater);
        visited.TryVisit(node);
        ReadOnlySpan<float> vector = graph.Vector(node);
        int count = 0;
        Span<Candidate> candidates = scratch.Found(cap);

        foreach (int first in graph.Links(node, layer))
        {
            if (count >= cap)
            {
                break;
            }

            if (!visited.TryVisit(first))
            {
                continue;
            }

            if (graph.IsLive(first))
            {
                candidates[count++] = new Candidate(VectorMath.Distance(Metric, vector, graph.Vector(first)), first);
                continue;
            }

            foreach (int second in graph.Links(first, layer))
            {
                if (count >= cap)
                {
                    break;
                }

                if (!visited.TryVisit(second))
                {
                    continue;
                }

                if (graph.IsLive(second))
                {
                    candidates[count++] = new Candidate(VectorMath.Distance(Metric, vector, graph.Vector(second)), second);
                    continue;
                }

                foreach (int third in graph.Links(second, layer))
                {
                    if (count >= cap)
                    {
                        break;
                    }

                    if (visited.TryVisit(third) && graph.IsLive(third))
                    {
                        candidates[count++] = new Candidate(VectorMath.Distance(Metric, vector, graph.Vector(third)), third);
                    }
                }
            }
        }

        candidates = candidates[..count];
        candidates.Sort();
        Span<int> selected = scratch.Selected(max);
        int kept = SelectNeighbours(graph, candidates, max, selected, scratch.Discarded(count));
        return selected[..kept].ToArray();
    }

    /// <summary>Makes the live node with the highest level (lowest id among equals) the entry point (-1 when none).</summary>
    private void ChooseEntryPoint(in HnswGraphView graph)
    {
        int entry = -1;
        int maxLevel = -1;
        for (int node = 0; node < graph.HighWater; node++)
        {
            if (graph.IsLive(node) && LevelOf(node) > maxLevel)
            {
                entry = node;
                maxLevel = LevelOf(node);
            }
        }

        Volatile.Write(ref _top, Pack(entry, maxLevel));
    }

    /// <summary>
    /// Walks layer 0 from the entry point and links again (as if newly inserted, at their own level) the live
    /// nodes the walk cannot reach, so no vector is lost to search after its neighbours were deleted.
    /// </summary>
    private void RelinkUnreachable()
    {
        (int entry, int maxLevel) = Unpack(Volatile.Read(ref _top));
        if (entry < 0)
        {
            return;
        }

        HnswGraphView graph = View();
        HnswScratch scratch = _scratch.Rent();
        try
        {
            VisitedSet visited = scratch.Visited;
            visited.Reset(graph.HighWater);
            var queue = new Queue<int>();
            visited.TryVisit(entry);
            queue.Enqueue(entry);
            int reached = 0;
            while (queue.TryDequeue(out int node))
            {
                reached++;
                foreach (int neighbour in graph.Links(node, 0))
                {
                    if (visited.TryVisit(neighbour))
                    {
                        queue.Enqueue(neighbour);
                    }
                }
            }

            if (reached == _live)
            {
                return;
            }

            var unreachable = new List<int>();
            for (int node = 0; node < graph.HighWater; node++)
            {
                if (graph.IsLive(node) && visited.TryVisit(node))
                {
                    unreachable.Add(node);
                }
            }

            foreach (int node in unreachable)
            {
                LinkIntoGraph(node, LevelOf(node), entry, maxLevel, scratch);
            }

            Interlocked.Add(ref _relinked, unreachable.Count);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>The level of a node (0 for free slots); for writers.</summary>
    private int LevelOf(int node) => _levels.Read(node)[0];
}
