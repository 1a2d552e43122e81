using static OxiVec.Indexing.IndexSnapshotFormat;

namespace OxiVec.Indexing;

/// <summary>Snapshots: writing the index to a stream and loading it back (see <see cref="VectorIndexSnapshot"/>).</summary>
public sealed partial class FlatIndex
{
    /// <summary>META: dimension (4), metric (1), high-water mark (4), live count (4).</summary>
    private const int MetaLength = 13;

    /// <inheritdoc/>
    /// <remarks>
    /// Costs O(chunks): the view shares the index's chunks, and while it is alive a mutation copies a chunk it
    /// shares (at most 1 MiB) before changing it. Takes the writer lock for that long; searches never wait.
    /// </remarks>
    public IndexSnapshotView CaptureSnapshot()
    {
        lock (_writer)
        {
            _epoch.BeginCapture();
            return new View(
                _epoch, Dimension, Metric, _highWater, _count, _states.Capture(), _vectors.Capture(), _released.Captured);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Captures a view (see <see cref="CaptureSnapshot"/>) and writes it: mutations wait only for the capture.
    /// Free slots' stale vectors are not written.
    /// </remarks>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using IndexSnapshotView view = CaptureSnapshot();
        view.WriteTo(destination);
    }

    /// <summary>
    /// Loads a flat index from a snapshot written by <see cref="WriteSnapshot"/>. The stream is left just after
    /// the snapshot and is not closed.
    /// </summary>
    /// <param name="source">A readable stream positioned at the start of a snapshot.</param>
    /// <returns>An index that answers every search exactly as the snapshotted index did.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">
    /// The snapshot is truncated, damaged, of an unknown version, or holds another kind of index.
    /// </exception>
    public static FlatIndex ReadSnapshot(Stream source) =>
        ReadBody(VectorIndexSnapshot.OpenKind(source, FlatKind));

    /// <summary>Reads everything after the header; the whole snapshot is checked before the index is returned.</summary>
    internal static FlatIndex ReadBody(SnapshotReader reader)
    {
        reader.EnterSection(MetaTag, MetaLength);
        (int dimension, DistanceMetric metric) = ReadShape(reader);
        int highWater = ReadInt32InRange(reader, "the high-water mark", 0, int.MaxValue);
        int count = ReadInt32InRange(reader, "the live count", 0, highWater);
        reader.ExitSection();

        byte[] states = ReadStates(reader, highWater, allowDeleted: false, count, 0);
        var index = new FlatIndex(dimension, metric);
        try
        {
            ReadVectors(reader, index._vectors, states);
            ReadReleased(reader, highWater, index._released);
            index._releasedCount = index._released.Count;
            reader.ReadTrailer();
            LoadStates(index._states, states);
            index._highWater = highWater;
            index._count = count;
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>A captured flat index: META values by value, chunk tables whose chunks never change.</summary>
    private sealed class View(
        SnapshotEpoch epoch,
        int dimension,
        DistanceMetric metric,
        int highWater,
        int count,
        ChunkTable<byte> states,
        ChunkTable<float> vectors,
        ReadOnlyMemory<int> released) : IndexSnapshotView
    {
        private int _disposed;

        public override int Count => count;

        public override void WriteTo(Stream destination)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var writer = new SnapshotWriter(destination, FlatKind);
            writer.BeginSection(MetaTag, MetaLength);
            WriteShape(writer, dimension, metric);
            writer.WriteInt32(highWater);
            writer.WriteInt32(count);
            writer.EndSection();
            WriteStates(writer, states, highWater);
            WriteVectors(writer, vectors, states, highWater);
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
