namespace OxiVec.Indexing;

/// <summary>Dropping tombstones while keeping the graph navigable.</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// Repairs and drops every tombstone; the caller holds the write lock. Phases: (1) find each live node and
    /// layer whose list holds a tombstone; (2) in parallel, re-select that list with the heuristic among the
    /// node's live neighbours and the live nodes within two tombstone hops (the deleted neighbours' neighbours),
    /// reading only the old graph; (3) write the new lists; (4) free the tombstones' slots; (5) choose a new
    /// entry point if it was deleted; (6) link again any live node no longer reachable on layer 0.
    /// </summary>
    /// <returns>The number of slots released.</returns>
    private int CompactCore()
    {
        if (_deleted == 0)
        {
            return 0;
        }

        var work = new List<(int Node, int Layer)>();
        for (int node = 0; node < _highWater; node++)
        {
            if (_state[node] != SlotState.Live)
            {
                continue;
            }

            for (int layer = 0; layer <= _level[node]; layer++)
            {
                foreach (int neighbour in Links(node, layer))
                {
                    if (_state[neighbour] == SlotState.Deleted)
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
                lists[i] = RepairedLinks(work[i].Node, work[i].Layer, scratch);
                return scratch;
            },
            _scratch.Return);

        for (int i = 0; i < work.Count; i++)
        {
            SetLinks(work[i].Node, work[i].Layer, lists[i]);
        }

        int released = 0;
        bool entryDeleted = false;
        for (int node = 0; node < _highWater; node++)
        {
            if (_state[node] != SlotState.Deleted)
            {
                continue;
            }

            _state[node] = SlotState.Free;
            _upper[node] = null;
            _level[node] = 0;
            _layer0.Block(node)[0] = 0;
            _released.Add(node);
            entryDeleted |= node == _entry;
            released++;
        }

        Volatile.Write(ref _deleted, 0);
        if (entryDeleted)
        {
            ChooseEntryPoint();
        }

        RelinkUnreachable();
        Interlocked.Increment(ref _compactions);
        AssertInvariants();
        return released;
    }

    /// <summary>The new neighbour list of a live node on a layer, avoiding tombstones. Reads the graph only.</summary>
    private int[] RepairedLinks(int node, int layer, HnswScratch scratch)
    {
        int max = MaxDegree(layer);
        int cap = Math.Max(_efConstruction, 4 * max);
        VisitedSet visited = scratch.Visited;
        visited.Reset(_highWater);
        visited.TryVisit(node);
        ReadOnlySpan<float> vector = _vectors.Get(node);
        int count = 0;
        Span<Candidate> candidates = scratch.Found(cap);

        foreach (int first in Links(node, layer))
        {
            if (count >= cap)
            {
                break;
            }

            if (!visited.TryVisit(first))
            {
                continue;
            }

            if (_state[first] == SlotState.Live)
            {
                candidates[count++] = new Candidate(Distance(vector, first), first);
                continue;
            }

            foreach (int second in Links(first, layer))
            {
                if (count >= cap)
                {
                    break;
                }

                if (!visited.TryVisit(second))
                {
                    continue;
                }

                if (_state[second] == SlotState.Live)
                {
                    candidates[count++] = new Candidate(Distance(vector, second), second);
                    continue;
                }

                foreach (int third in Links(second, layer))
                {
                    if (count >= cap)
                    {
                        break;
                    }

                    if (visited.TryVisit(third) && _state[third] == SlotState.Live)
                    {
                        candidates[count++] = new Candidate(Distance(vector, third), third);
                    }
                }
            }
        }

        candidates = candidates[..count];
        candidates.Sort();
        Span<int> selected = scratch.Selected(max);
        int kept = SelectNeighbours(candidates, max, selected, scratch.Discarded(count));
        return selected[..kept].ToArray();
    }

    /// <summary>Makes the live node with the highest level (lowest id among equals) the entry point.</summary>
    private void ChooseEntryPoint()
    {
        _entry = -1;
        _maxLevel = -1;
        for (int node = 0; node < _highWater; node++)
        {
            if (_state[node] == SlotState.Live && _level[node] > _maxLevel)
            {
                _entry = node;
                _maxLevel = _level[node];
            }
        }
    }

    /// <summary>
    /// Walks layer 0 from the entry point and links again (as if newly inserted, at their own level) the live
    /// nodes the walk cannot reach, so no vector is lost to search after its neighbours were deleted.
    /// </summary>
    private void RelinkUnreachable()
    {
        if (_entry < 0)
        {
            return;
        }

        VisitedSet visited = _writerScratch.Visited;
        visited.Reset(_highWater);
        var queue = new Queue<int>();
        visited.TryVisit(_entry);
        queue.Enqueue(_entry);
        int reached = 0;
        while (queue.TryDequeue(out int node))
        {
            reached++;
            foreach (int neighbour in Links(node, 0))
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
        for (int node = 0; node < _highWater; node++)
        {
            if (_state[node] == SlotState.Live && visited.TryVisit(node))
            {
                unreachable.Add(node);
            }
        }

        foreach (int node in unreachable)
        {
            LinkIntoGraph(node, _level[node], _writerScratch);
        }

        Interlocked.Add(ref _relinked, unreachable.Count);
    }
}
