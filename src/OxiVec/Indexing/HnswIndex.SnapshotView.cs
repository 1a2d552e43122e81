using static OxiVec.Indexing.IndexSnapshotFormat;

namespace OxiVec.Indexing;

/// <summary>The copy-on-write snapshot view of an HNSW index.</summary>
public sealed partial class HnswIndex
{
    /// <summary>The META values of a capture, by value.</summary>
    private sealed record HnswSnapshotMeta(
        int Dimension,
        DistanceMetric Metric,
        HnswParameters Parameters,
        int HighWater,
        int Live,
        int Deleted,
        int Entry,
        int MaxLevel,
        ulong LevelRandom);

    /// <summary>
    /// A captured graph: chunk tables whose chunks (and upper lists) the index copies before changing them while this
    /// view is alive, written in exactly the bytes <see cref="WriteSnapshot"/> would have written at the capture.
    /// </summary>
    private sealed class HnswSnapshotView(
        SnapshotEpoch epoch,
        HnswSnapshotMeta meta,
        HnswGraphView graph,
        ChunkTable<byte> levels,
        ReadOnlyMemory<int> released) : IndexSnapshotView
    {
        private int _disposed;

        public override int Count => meta.Live;

        public override void WriteTo(Stream destination)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var writer = new SnapshotWriter(destination, HnswKind);
            int highWater = meta.HighWater;
            writer.BeginSection(MetaTag, MetaLength);
            WriteShape(writer, meta.Dimension, meta.Metric);
            writer.WriteInt32(meta.Parameters.M);
            writer.WriteInt32(meta.Parameters.EfConstruction);
            writer.WriteInt32(meta.Parameters.EfSearch);
            writer.WriteInt32(meta.Parameters.Seed);
            writer.WriteByte(meta.Parameters.KeepPrunedConnections ? (byte)1 : (byte)0);
            writer.WriteByte(meta.Parameters.AutoCompact ? (byte)1 : (byte)0);
            writer.WriteDouble(meta.Parameters.CompactionThreshold);
            writer.WriteInt32(highWater);
            writer.WriteInt32(meta.Live);
            writer.WriteInt32(meta.Deleted);
            writer.WriteInt32(meta.Entry);
            writer.WriteInt32(meta.MaxLevel);
            writer.WriteUInt64(meta.LevelRandom);
            writer.EndSection();

            WriteStates(writer, graph.States, highWater);
            WriteVectors(writer, graph.Vectors, graph.States, highWater);

            writer.BeginSection(LevelTag, UsedSlots(graph.States, highWater));
            for (int node = 0; node < highWater; node++)
            {
                if (graph.State(node) != SlotState.Free)
                {
                    writer.WriteByte(levels.Item(node)[0]);
                }
            }

            writer.EndSection();

            long linkBytes = 0;
            for (int node = 0; node < highWater; node++)
            {
                if (graph.State(node) != SlotState.Free)
                {
                    for (int layer = 0; layer <= levels.Item(node)[0]; layer++)
                    {
                        linkBytes += (1L + graph.Links(node, layer).Length) * sizeof(int);
                    }
                }
            }

            writer.BeginSection(LinkTag, linkBytes);
            for (int node = 0; node < highWater; node++)
            {
                if (graph.State(node) != SlotState.Free)
                {
                    for (int layer = 0; layer <= levels.Item(node)[0]; layer++)
                    {
                        ReadOnlySpan<int> links = graph.Links(node, layer);
                        writer.WriteInt32(links.Length);
                        writer.WriteInt32s(links);
                    }
                }
            }

            writer.EndSection();
            WriteReleased(writer, released.Span);
            writer.Finish();
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                epoch.EndView();
            }

            base.Dispose(disposing);
        }
    }
}
