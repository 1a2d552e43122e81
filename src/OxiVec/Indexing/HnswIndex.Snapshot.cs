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
    public IndexSnapshotView CaptureSnapshot() => new BufferedIndexSnapshotView(this);

    /// <inheritdoc/>
    /// <remarks>
    /// Holds the read lock while writing: searches continue, mutations (including compactions) wait until the
    /// snapshot is written (and, as with any waiting writer, searches that start after a mutation began waiting
    /// wait behind it). Tombstones are written with their vectors and links, so the loaded graph is navigated
    /// exactly like this one; the level generator's state is written too, so later inserts draw the same levels.
    /// </remarks>
    public void WriteSnapshot(Stream destination)
    {
        var writer = new SnapshotWriter(destination, HnswKind);
        _lock.EnterReadLock();
        try
        {
            ReadOnlySpan<byte> states = _state.AsSpan(0, _highWater);
            writer.BeginSection(MetaTag, MetaLength);
            WriteShape(writer, Dimension, Metric);
            writer.WriteInt32(Parameters.M);
            writer.WriteInt32(Parameters.EfConstruction);
            writer.WriteInt32(Parameters.EfSearch);
            writer.WriteInt32(Parameters.Seed);
            writer.WriteByte(Parameters.KeepPrunedConnections ? (byte)1 : (byte)0);
            writer.WriteByte(Parameters.AutoCompact ? (byte)1 : (byte)0);
            writer.WriteDouble(Parameters.CompactionThreshold);
            writer.WriteInt32(_highWater);
            writer.WriteInt32(_live);
            writer.WriteInt32(_deleted);
            writer.WriteInt32(_entry);
            writer.WriteInt32(_maxLevel);
            writer.WriteUInt64(_levelRandom);
            writer.EndSection();

            WriteStates(writer, states);
            WriteVectors(writer, _vectors, states);

            writer.BeginSection(LevelTag, UsedSlots(states));
            for (int node = 0; node < states.Length; node++)
            {
                if (states[node] != SlotState.Free)
                {
                    writer.WriteByte((byte)_level[node]);
                }
            }

            writer.EndSection();

            long linkBytes = 0;
            for (int node = 0; node < states.Length; node++)
            {
                if (states[node] != SlotState.Free)
                {
                    for (int layer = 0; layer <= _level[node]; layer++)
                    {
                        linkBytes += (1L + LinkBlock(node, layer)[0]) * sizeof(int);
                    }
                }
            }

            writer.BeginSection(LinkTag, linkBytes);
            for (int node = 0; node < states.Length; node++)
            {
                if (states[node] != SlotState.Free)
                {
                    for (int layer = 0; layer <= _level[node]; layer++)
                    {
                        Span<int> block = LinkBlock(node, layer);
                        writer.WriteInt32s(block[..(block[0] + 1)]);
                    }
                }
            }

            writer.EndSection();
            WriteReleased(writer, _released);
            writer.Finish();
        }
        finally
        {
            _lock.ExitReadLock();
        }
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
            index._state = states;
            index._level = new int[states.Length];
            index._upper = new int[]?[states.Length];
            index._highWater = highWater;
            ReadVectors(reader, index._vectors, states);
            index.ReadLevels(reader, entry, maxLevel, entryOffset);
            index.ReadLinks(reader);
            ReadReleased(reader, highWater, index._released);
            reader.ReadTrailer();
            index._live = live;
            index._deleted = deleted;
            index._entry = entry;
            index._maxLevel = maxLevel;
            index._levelRandom = levelRandom;
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Reads LEVL into <c>_level</c> and checks the levels against the entry point and top level of META.</summary>
    private void ReadLevels(SnapshotReader reader, int entry, int maxLevel, long entryOffset)
    {
        int used = UsedSlots(_state);
        reader.EnterSection(LevelTag, used);
        int top = -1;
        int node = 0;
        while (reader.SectionRemaining > 0)
        {
            long start = reader.Position;
            ReadOnlySpan<byte> levels = reader.ReadPiece(reader.SectionRemaining);
            for (int i = 0; i < levels.Length; i++, node++)
            {
                while (_state[node] == SlotState.Free)
                {
                    node++;
                }

                int level = levels[i];
                if (level > maxLevel)
                {
                    throw reader.Error($"slot {node} has level {level}, above the top level {maxLevel}", start + i);
                }

                _level[node] = level;
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
        else if (entry < 0 || _state[entry] == SlotState.Free)
        {
            throw SnapshotReader.ErrorIn("META", $"the entry point {entry} is not a node of the graph", entryOffset);
        }
        else if (_level[entry] != maxLevel || top != maxLevel)
        {
            throw SnapshotReader.ErrorIn(
                "META",
                $"the entry point {entry} has level {_level[entry]} and the highest level is {top}, but the top level is {maxLevel}",
                entryOffset);
        }

        reader.ExitSection();
    }

    /// <summary>
    /// Reads LINK straight into the adjacency blocks, checking every count against the layer's maximum degree and
    /// every neighbour: in range, not free, not the node itself, on the layer, listed once.
    /// </summary>
    private void ReadLinks(SnapshotReader reader)
    {
        reader.EnterSection(LinkTag);

        // Every node stores at least one count per layer: check the section can hold them before allocating any
        // node's adjacency blocks, so a damaged or hostile snapshot cannot make the loader allocate far more memory
        // than it has bytes.
        long needed = 0;
        for (int node = 0; node < _highWater; node++)
        {
            if (_state[node] != SlotState.Free)
            {
                needed += sizeof(int) * (_level[node] + 1L);
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
            if (_state[node] == SlotState.Free)
            {
                continue;
            }

            _layer0.EnsureSlot(node);
            int level = _level[node];
            _upper[node] = level > 0 ? new int[level * (_m + 1)] : null;
            for (int layer = 0; layer <= level; layer++)
            {
                Span<int> block = LinkBlock(node, layer);
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
                        : _state[target] == SlotState.Free ? "is a free slot"
                        : target == node ? "is the node itself"
                        : _level[target] < layer ? $"has level {_level[target]}, below the layer"
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
