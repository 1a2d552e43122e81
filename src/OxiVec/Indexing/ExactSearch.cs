namespace OxiVec.Indexing;

/// <summary>Brute-force top-k over the chunks of a <see cref="VectorArena"/>, shared by the indexes.</summary>
internal static class ExactSearch
{
    /// <summary>
    /// Pushes every live slot that passes <paramref name="filter"/> into <paramref name="heap"/>, keeping the
    /// <paramref name="k"/> closest to <paramref name="query"/>. <paramref name="states"/> holds the slot states
    /// up to the high-water mark of used slots.
    /// </summary>
    public static void Scan(
        VectorArena arena,
        ReadOnlySpan<byte> states,
        ReadOnlySpan<float> query,
        DistanceMetric metric,
        Func<int, bool>? filter,
        int k,
        MaxCandidateHeap heap)
    {
        int dimension = arena.Dimension;
        int perChunk = arena.VectorsPerChunk;
        for (int chunk = 0, first = 0; first < states.Length; chunk++, first += perChunk)
        {
            int end = Math.Min(perChunk, states.Length - first);
            ReadOnlySpan<byte> chunkStates = states.Slice(first, end);
            if (!chunkStates.ContainsAnyExcept(SlotState.Free))
            {
                continue;
            }

            ReadOnlySpan<float> data = arena.Chunk(chunk);
            for (int i = 0; i < chunkStates.Length; i++)
            {
                if (chunkStates[i] != SlotState.Live)
                {
                    continue;
                }

                int slot = first + i;
                if (filter is not null && !filter(slot))
                {
                    continue;
                }

                float distance = VectorMath.Distance(metric, query, data.Slice(i * dimension, dimension));
                heap.PushBounded(new Candidate(distance, slot), k);
            }
        }
    }

    /// <summary>Empties <paramref name="heap"/> into hits: its best <paramref name="k"/>, ascending by distance.</summary>
    public static SearchHit[] ToHits(MaxCandidateHeap heap, int k)
    {
        while (heap.Count > k)
        {
            heap.Pop();
        }

        if (heap.Count == 0)
        {
            return [];
        }

        var hits = new SearchHit[heap.Count];
        for (int i = hits.Length - 1; i >= 0; i--)
        {
            Candidate c = heap.Pop();
            hits[i] = new SearchHit(c.Id, c.Distance);
        }

        return hits;
    }
}
