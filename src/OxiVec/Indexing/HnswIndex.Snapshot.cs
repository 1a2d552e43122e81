using static OxiVec.Indexing.IndexSnapshotFormat;

namespace OxiVec.Indexing;

/// <summary>Snapshots: writing the graph to a stream and loading it back (see <see cref="VectorIndexSnapshot"/>).</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// META: dimension (4), metric (1), M, efConstruction, efSearch, seed (4 each), keepPrunedConnections and
    /// autoCompact (1 each), compactionThreshold (8), high-water mark, live count, tombstone count, entry point,
    /// top level (4 each), level generator state (8).
    /// </summary>
    private const int MetaLength = 59;

    /// <inheritdoc/>
    /// <remarks>
    /// Costs O(chunks): takes the writer lock exclusively (waiting for adds in flight; searches never wait), copies
    /// the chunk tables and the META values, and starts a copy-on-write generation. While the view is alive, adds
    /// serialise and every mutation copies a chunk (at most 1 MiB) or a node's upper lists the view shares before
    /// changing it, so the view's data never changes; a slot at or above the captured high-water mark, which the view
    /// never reads, is written in place (an add at the end copies only its neighbours' link chunks).
    /// </remarks>
    public IndexSnapshotView CaptureSnapshot()
    {
        _writers.EnterWriteLock();
        try
        {
            // The view reads no slot at or above the high-water mark: an add there (the usual add) writes its own
            // slot in place, copying only the neighbours' chunks it links to.
            _epoch.BeginCapture(_highWater);
            (int entry, int maxLevel) = Unpack(_top);
            var meta = new HnswSnapshotMeta(
                Dimension, Metric, Parameters, _highWater, _live, _deleted, entry, maxLevel, _levelRandom);
            return new HnswSnapshotView(
                _epoch,
                meta,
                new HnswGraphView(_highWater, _vectors.Capture(), _layer0.Capture(), _upper.Capture(), _states.Capture(), _m),
                _levels.Capture(),
                _released.Captured);
        }
        finally
        {
            _writers.ExitWriteLock();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Captures a view (see <see cref="CaptureSnapshot"/>) and writes it: mutations wait only for the capture.
    /// Tombstones are written with their vectors and links, so the loaded graph is navigated exactly like this
    /// one; the level generator's state is written too, so later inserts draw the same levels.
    /// </remarks>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using IndexSnapshotView view = CaptureSnapshot();
        view.WriteTo(destination);
    }

    /// <summary>
    /// Loads an HNSW index from a snapshot written by <see cref="WriteSnapshot"/>, without rebuilding the graph.
    /// The stream is left just after the snapshot and is not closed.
    /// </summary>
    /// <param name="source">A readable stream positioned at the start of a snapshot.</param>
    /// <returns>
    /// An index with the same parameters, graph, tombstones, free slots, released ids and level generator state:
    /// it answers every search exactly as the snapshotted index did, and later operations behave identically.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">
    /// The snapshot is truncated, damaged, of an unknown version, or holds another kind of index.
    /// </exception>
    public static HnswIndex ReadSnapshot(Stream source) =>
        ReadBody(VectorIndexSnapshot.OpenKind(source, HnswKind));

    /// <summary>Reads everything after the header; the whole snapshot is checked before the index is returned.</summary>
    internal static HnswIndex ReadBody(SnapshotReader reader)
    {
        reader.EnterSection(MetaTag, MetaLength);
        (int dimension, DistanceMetric metric) = ReadShape(reader);
        int m = ReadInt32InRange(reader, "M", 2, HnswParameters.MaxM);
        int efConstruction = ReadInt32InRange(reader, "efConstruction", 1, HnswParameters.MaxEfConstruction);
        int efSearch = ReadInt32InRange(reader, "efSearch", 1, int.MaxValue);
        int seed = reader.ReadInt32();
        bool keepPruned = ReadBoolean(reader, "keepPrunedConnections");
        bool autoCompact = ReadBoolean(reader, "autoCompact");
        double threshold = reader.ReadDouble();
        if (!(threshold > 0 && threshold <= 1))
        {
            throw reader.Error($"the compaction threshold is {threshold}, outside (0, 1]");
        }

        int highWater = ReadInt32InRange(reader, "the high-water mark", 0, int.MaxValue);
        int live = ReadInt32InRange(reader, "the live count", 0, highWater);
        int deleted = ReadInt32InRange(reader, "the tombstone count", 0, highWater - live);
        long entryOffset = reader.Position;
        int entry = ReadInt32InRange(reader, "the entry point", -1, highWater - 1);
        int maxLevel = ReadInt32InRange(reader, "the top level", -1, MaxLevelCap);
        ulong levelRandom = reader.ReadUInt64();
        reader.ExitSection();

        byte[] states = ReadStates(reader, highWater, allowDeleted: true, live, deleted);
        var parameters = new HnswParameters
        {
            M = m,
            EfConstruction = efConstruction,
            EfSearch = efSearch,
            Seed = seed,
            KeepPrunedConnections = keepPruned,
            AutoCompact = autoCompact,
            CompactionThreshold = threshold,
        };
        var index = new HnswIndex(dimension, metric, parameters);
        try
        {
            LoadStates(index._states, states);
            LoadStates(index._levels, new byte[states.Length]);
            index._highWater = highWater;
            ReadVectors(reader, index._vectors, states);
            index.ReadLevels(reader, states, entry, maxLevel, entryOffset);
            index.ReadLinks(reader, states);
            ReadReleased(reader, highWater, index._released);
            reader.ReadTrailer();
            index._live = live;
            index._deleted = deleted;
            index._top = Pack(entry, maxLevel);
            index._levelRandom = levelRandom;
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Reads LEVL into the level store and checks the levels against the entry point and top level of META.</summary>
    private void ReadLevels(SnapshotReader reader, byte[] states, int entry, int maxLevel, long entryOffset)
    {
        int used = UsedSlots(states);
        reader.EnterSection(LevelTag, used);
        int top = -1;
        int node = 0;
        while (reader.SectionRemaining > 0)
        {
            long start = reader.Position;
            ReadOnlySpan<byte> levels = reader.ReadPiece(reader.SectionRemaining);
            for (int i = 0; i < levels.Length; i++, node++)
            {
                while (states[node] == SlotState.Free)
                {
                    node++;
                }

                int level = levels[i];
                if (level > maxLevel)
                {
                    throw reader.Error($"slot {node} has level {level}, above the top level {maxLevel}", start + i);
                }

                _levels.Items(node, 1)[0] = (byte)level;
                top = Math.Max(top, level);
            }
        }

        if (used == 0)
        {
            if (entry != -1 || maxLevel != -1)
            {
                throw SnapshotReader.ErrorIn(
                    "META", $"the graph is empty but has entry point {entry} and top level {maxLevel}", entryOffset);
            }
        }
        else if (entry < 0 || states[entry] == SlotState.Free)
        {
            throw SnapshotReader.ErrorIn("META", $"the entry point {entry} is not a node of the graph", entryOffset);
        }
        else if (LevelOf(entry) != maxLevel || top != maxLevel)
        {
            throw SnapshotReader.ErrorIn(
                "META",
                $"the entry point {entry} has level {LevelOf(entry)} and the highest level is {top}, but the top level is {maxLevel}",
                entryOffset);
        }

        reader.ExitSection();
    }

    /// <summary>
    /// Reads LINK straight into the adjacency blocks, checking every count against the layer's maximum degree and
    /// every neighbour: in range, not free, not the node itself, on the layer, listed once.
    /// </summary>
    private void ReadLinks(SnapshotReader reader, byte[] states)
    {
        reader.EnterSection(LinkTag);

        // Every node stores at least one count per layer: check the section can hold them before allocating any
        // node's adjacency blocks, so a damaged or hostile snapshot cannot make the loader allocate far more memory
        // than it has bytes.
        long needed = 0;
        for (int node = 0; node < _highWater; node++)
        {
            if (states[node] != SlotState.Free)
            {
                needed += sizeof(int) * (LevelOf(node) + 1L);
            }
        }

        if (reader.SectionRemaining < needed)
        {
            throw reader.Error($"the section holds {reader.SectionRemaining} bytes, but the link counts of its nodes alone take {needed}");
        }

        int[] stamp = new int[_highWater];
        int list = 0;
        for (int node = 0; node < _highWater; node++)
        {
            if (states[node] == SlotState.Free)
            {
                continue;
            }

            _layer0.EnsureSlot(node);
            _upper.EnsureSlot(node);
            int level = LevelOf(node);
            _upper.Items(node, 1)[0] = level > 0 ? NewUpper(level) : null;
            for (int layer = 0; layer <= level; layer++)
            {
                Span<int> block = BlockForWrite(node, layer);
                int count = reader.ReadInt32();
                if (count < 0 || count > MaxDegree(layer))
                {
                    throw reader.Error(
                        $"slot {node} has {count} links on layer {layer}; the maximum is {MaxDegree(layer)}");
                }

                block[0] = count;
                Span<int> links = block.Slice(1, count);
                long start = reader.Position;
                reader.ReadInt32s(links);
                if (list == int.MaxValue)
                {
                    Array.Clear(stamp);
                    list = 0;
                }

                list++;
                for (int i = 0; i < links.Length; i++)
                {
                    int target = links[i];
                    string? problem =
                        target < 0 || target >= _highWater ? $"is outside the {_highWater} slots"
                        : states[target] == SlotState.Free ? "is a free slot"
                        : target == node ? "is the node itself"
                        : LevelOf(target) < layer ? $"has level {LevelOf(target)}, below the layer"
                        : stamp[target] == list ? "is listed twice"
                        : null;
                    if (problem is not null)
                    {
                        throw reader.Error(
                            $"neighbour {target} of slot {node} on layer {layer} {problem}",
                            start + ((long)i * sizeof(int)));
                    }

                    stamp[target] = list;
                }
            }
        }

        reader.ExitSection();
    }
}
