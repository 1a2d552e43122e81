namespace OxiVec.Indexing;

/// <summary>Brute-force top-k over the chunks of a vector store, shared by the indexes.</summary>
internal static class ExactSearch
{
    /// <summary>
    /// Pushes every live slot below <paramref name="highWater"/> that passes <paramref name="filter"/> into
    /// <paramref name="heap"/>, keeping the <paramref name="k"/> closest to <paramref name="query"/>. The tables are
    /// what the caller captured (after <paramref name="highWater"/>); a slot whose vector chunk is missing from them
    /// was added after the capture and is skipped. Each slot is considered once, so no id is pushed twice.
    /// </summary>
    public static void Scan(
        ChunkTable<float> vectors,
        ChunkTable<byte> states,
        int highWater,
        ReadOnlySpan<float> query,
        DistanceMetric metric,
        Func<int, bool>? filter,
        int k,
        MaxCandidateHeap heap)
    {
        int dimension = vectors.Stride;
        int perChunk = vectors.ItemsPerChunk;
        for (int chunk = 0, first = 0; first < highWater; chunk++, first += perChunk)
        {
            ReadOnlySpan<byte> chunkStates =
                IndexSnapshotFormat.StatesOf(states, first, Math.Min(perChunk, highWater - first));
            float[]? data = vectors.Chunk(chunk);
            if (data is null || !chunkStates.Contains(SlotState.Live))
            {
                continue;
            }

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

                float distance = VectorMath.Distance(metric, query, data.AsSpan(i * dimension, dimension));
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
