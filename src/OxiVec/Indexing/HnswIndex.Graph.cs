using System.Diagnostics;

namespace OxiVec.Indexing;

/// <summary>The graph algorithms: greedy descent, layer beam search, neighbour selection, linking.</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// Links <paramref name="id"/> (already stored, level <paramref name="level"/>) into every layer it shares
    /// with the graph, replacing any links it had there: descend greedily to its top layer, then on each layer
    /// down to 0 beam-search with efConstruction, select neighbours with the heuristic and link both ways.
    /// Tombstones guide the search but are chosen as neighbours only when nothing live was reached.
    /// </summary>
    private void LinkIntoGraph(int id, int level, int entry, int maxLevel, HnswScratch scratch)
    {
        HnswGraphView graph = View();
        ReadOnlySpan<float> vector = graph.Vector(id);
        float entryDistance = VectorMath.Distance(Metric, vector, graph.Vector(entry));
        for (int layer = maxLevel; layer > level; layer--)
        {
            Greedy(graph, vector, layer, id, ref entry, ref entryDistance);
        }

        Span<Candidate> entries = scratch.Found(1);
        entries[0] = new Candidate(entryDistance, entry);
        for (int layer = Math.Min(level, maxLevel); layer >= 0; layer--)
        {
            // A fresh capture per layer, so nodes other threads linked meanwhile can be reached.
            graph = View();
            long searchStart = Stopwatch.GetTimestamp();
            SearchLayer(graph, vector, entries, _efConstruction, layer, null, id, scratch, long.MaxValue, out Candidate nearest);
            long linkStart = Stopwatch.GetTimestamp();
            _work.Search(linkStart - searchStart);
            int found = scratch.Results.Count;
            Span<Candidate> sorted;
            if (found > 0)
            {
                sorted = scratch.Found(found);
                scratch.Results.DrainAscending(sorted);
            }
            else if (nearest.Id >= 0)
            {
                sorted = scratch.Found(1);
                sorted[0] = nearest;
            }
            else
            {
                // Nothing but the node itself was reachable (cannot happen while the entry point is another node).
                SetLinks(id, layer, []);
                continue;
            }

            Span<int> selected = scratch.Selected(_m);
            int count = SelectNeighbours(graph, sorted, _m, selected, scratch.Discarded(sorted.Length));
            SetLinks(id, layer, selected[..count]);
            for (int i = 0; i < count; i++)
            {
                Connect(selected[i], id, layer, scratch);
            }

            _work.Link(Stopwatch.GetTimestamp() - linkStart);

            entries = sorted;
        }
    }

    /// <summary>
    /// Moves <paramref name="entry"/> to the closest node reachable by strictly improving steps on a layer, never
    /// onto <paramref name="exclude"/> (the node being linked, or -1).
    /// </summary>
    private void Greedy(
        in HnswGraphView graph, ReadOnlySpan<float> query, int layer, int exclude, ref int entry, ref float entryDistance)
    {
        bool improved = true;
        while (improved)
        {
            improved = false;
            foreach (int neighbour in graph.Links(entry, layer))
            {
                if (!graph.Readable(neighbour))
                {
                    continue;
                }

                float distance = VectorMath.Distance(Metric, query, graph.Vector(neighbour));
                if (distance < entryDistance && neighbour != exclude)
                {
                    entryDistance = distance;
                    entry = neighbour;
                    improved = true;
                }
            }
        }
    }

    /// <summary>
    /// The paper's SEARCH-LAYER: a best-first beam from <paramref name="entries"/>, leaving in
    /// <c>scratch.Results</c> the <paramref name="ef"/> closest <em>accepted</em> nodes (live and passing
    /// <paramref name="filter"/>); rejected nodes are still expanded. <paramref name="exclude"/> (or -1) is never
    /// visited. <paramref name="nearest"/> is the closest node visited, accepted or not.
    /// </summary>
    /// <returns><see langword="false"/> when more than <paramref name="budget"/> distances were needed (results partial).</returns>
    private bool SearchLayer(
        in HnswGraphView graph,
        ReadOnlySpan<float> query,
        ReadOnlySpan<Candidate> entries,
        int ef,
        int layer,
        Func<int, bool>? filter,
        int exclude,
        HnswScratch scratch,
        long budget,
        out Candidate nearest)
    {
        VisitedSet visited = scratch.Visited;
        visited.Reset(graph.HighWater);
        if (exclude >= 0)
        {
            visited.TryVisit(exclude);
        }

        MinCandidateHeap candidates = scratch.Candidates;
        MaxCandidateHeap results = scratch.Results;
        candidates.Clear();
        results.Clear();
        nearest = new Candidate(float.PositiveInfinity, -1);
        foreach (Candidate entry in entries)
        {
            if (!visited.TryVisit(entry.Id))
            {
                continue;
            }

            candidates.Push(entry);
            if (entry.Distance < nearest.Distance)
            {
                nearest = entry;
            }

            if (graph.IsLive(entry.Id) && (filter is null || filter(entry.Id)))
            {
                results.PushBounded(entry, ef);
            }
        }

        Span<int> fresh = scratch.Fresh(_maxM0);
        long distances = 0, expanded = 0;
        while (candidates.Count > 0)
        {
            Candidate current = candidates.Pop();
            if (results.Count >= ef && current.Distance > results.Top.Distance)
            {
                break;
            }

            expanded++;

            // Two passes: first the unvisited neighbours, with a prefetch of each one's vector, then their distances,
            // so the memory loads overlap instead of each distance waiting for its own. Lists hold no duplicates, so
            // the nodes are measured in the same order as by a single pass.
            int count = 0;
            foreach (int neighbour in graph.Links(current.Id, layer))
            {
                // An id the capture cannot read was linked after the search began: skipped.
                if (graph.Readable(neighbour) && visited.TryVisit(neighbour))
                {
                    fresh[count++] = neighbour;
                    graph.Prefetch(neighbour);
                }
            }

            distances += count;
            foreach (int neighbour in fresh[..count])
            {
                if (--budget < 0)
                {
                    scratch.Distances += distances;
                    scratch.Expanded += expanded;
                    return false;
                }

                float distance = VectorMath.Distance(Metric, query, graph.Vector(neighbour));
                if (distance < nearest.Distance)
                {
                    nearest = new Candidate(distance, neighbour);
                }

                if (results.Count < ef || distance < results.Top.Distance)
                {
                    var candidate = new Candidate(distance, neighbour);
                    candidates.Push(candidate);
                    if (graph.IsLive(neighbour) && (filter is null || filter(neighbour)))
                    {
                        results.PushBounded(candidate, ef);
                    }
                }
            }
        }

        scratch.Distances += distances;
        scratch.Expanded += expanded;
        return true;
    }

    /// <summary>
    /// The paper's SELECT-NEIGHBORS-HEURISTIC (without candidate extension): walking <paramref name="sorted"/>
    /// (ascending distance to the base node), keep a candidate only if it is closer to the base than to every
    /// candidate already kept, so links spread in different directions; optionally top up with pruned ones.
    /// </summary>
    /// <returns>How many ids were written to <paramref name="selected"/> (at most <paramref name="max"/>).</returns>
    private int SelectNeighbours(
        in HnswGraphView graph, ReadOnlySpan<Candidate> sorted, int max, Span<int> selected, Span<int> discarded)
    {
        int count = 0;
        int pruned = 0;
        foreach (Candidate candidate in sorted)
        {
            if (count >= max)
            {
                break;
            }

            ReadOnlySpan<float> vector = graph.Vector(candidate.Id);
            bool keep = true;
            for (int j = 0; j < count; j++)
            {
                if (VectorMath.Distance(Metric, vector, graph.Vector(selected[j])) < candidate.Distance)
                {
                    keep = false;
                    break;
                }
            }

            if (keep)
            {
                selected[count++] = candidate.Id;
            }
            else
            {
                discarded[pruned++] = candidate.Id;
            }
        }

        if (Parameters.KeepPrunedConnections)
        {
            for (int i = 0; i < pruned && count < max; i++)
            {
                selected[count++] = discarded[i];
            }
        }

        return count;
    }

    /// <summary>
    /// Adds the link <paramref name="from"/> → <paramref name="to"/> on a layer (unless present, as when an
    /// unreachable node is linked again); when the list is full, re-selects it with the heuristic among the old
    /// links and the new one (tombstones dropped first). Holds <paramref name="from"/>'s stripe lock throughout.
    /// </summary>
    private void Connect(int from, int to, int layer, HnswScratch scratch)
    {
        lock (LinkLock(from))
        {
            Span<int> block = BlockForWrite(from, layer);
            int count = block[0];
            if (block.Slice(1, count).Contains(to))
            {
                return;
            }

            int max = MaxDegree(layer);
            if (count < max)
            {
                block[count + 1] = to;
                Volatile.Write(ref block[0], count + 1);
                return;
            }

            _work.Prune();
            HnswGraphView graph = View();
            ReadOnlySpan<float> vector = graph.Vector(from);
            Span<Candidate> candidates = scratch.Prune(count + 1);
            int n = 0;
            for (int i = 1; i <= count; i++)
            {
                // Nodes other threads are still inserting count as live; a tombstone is dropped.
                int neighbour = block[i];
                if (graph.Readable(neighbour) && graph.State(neighbour) != SlotState.Deleted)
                {
                    candidates[n++] = new Candidate(VectorMath.Distance(Metric, vector, graph.Vector(neighbour)), neighbour);
                }
            }

            candidates[n++] = new Candidate(VectorMath.Distance(Metric, vector, graph.Vector(to)), to);
            candidates = candidates[..n];
            candidates.Sort();
            Span<int> selected = scratch.PruneSelected(max);
            int kept = SelectNeighbours(graph, candidates, max, selected, scratch.PruneDiscarded(n));
            WriteLinks(block, selected[..kept]);
        }
    }

    /// <summary>Replaces the list of <paramref name="node"/> on <paramref name="layer"/>, under its stripe lock.</summary>
    private void SetLinks(int node, int layer, ReadOnlySpan<int> neighbours)
    {
        lock (LinkLock(node))
        {
            WriteLinks(BlockForWrite(node, layer), neighbours);
        }
    }

    /// <summary>Writes the ids, then publishes the count (release), so a reader never sees a count ahead of its ids.</summary>
    private static void WriteLinks(Span<int> block, ReadOnlySpan<int> neighbours)
    {
        neighbours.CopyTo(block[1..]);
        Volatile.Write(ref block[0], neighbours.Length);
    }

    /// <summary>
    /// The block of <paramref name="node"/> on <paramref name="layer"/> to change: copied first (layer-0 chunk, upper
    /// reference chunk, the node's upper lists) where a live snapshot view may share it.
    /// </summary>
    private Span<int> BlockForWrite(int node, int layer)
    {
        if (layer == 0)
        {
            return _layer0.Write(node);
        }

        Span<int[]?> cell = _upper.Write(node);
        int[] upper = cell[0]!;
        if (_epoch.MustCopy(upper[0]))
        {
            long copyStart = Stopwatch.GetTimestamp();
            upper = (int[])upper.Clone();
            _work.Copy(Stopwatch.GetTimestamp() - copyStart);
            upper[0] = _epoch.Generation;
            _copiedUpperLists++;
            _copiedUpperBytes += (long)upper.Length * sizeof(int);
            Volatile.Write(ref cell[0], upper);
        }

        return upper.AsSpan(1 + ((layer - 1) * (_m + 1)), _m + 1);
    }

    /// <summary>What a graph operation reads: the high-water mark first, then the chunk tables (see <see cref="HnswGraphView"/>).</summary>
    private HnswGraphView View()
    {
        int highWater = Volatile.Read(ref _highWater);
        return new HnswGraphView(highWater, _vectors.Table, _layer0.Table, _upper.Table, _states.Table, _m);
    }
}
