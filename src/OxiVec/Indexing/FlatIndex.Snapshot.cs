using static OxiVec.Indexing.IndexSnapshotFormat;

namespace OxiVec.Indexing;

/// <summary>Snapshots: writing the index to a stream and loading it back (see <see cref="VectorIndexSnapshot"/>).</summary>
public sealed partial class FlatIndex
{
    /// <summary>META: dimension (4), metric (1), high-water mark (4), live count (4).</summary>
    private const int MetaLength = 13;

    /// <inheritdoc/>
    public IndexSnapshotView CaptureSnapshot() => new BufferedIndexSnapshotView(this);

    /// <inheritdoc/>
    /// <remarks>
    /// Holds the read lock while writing: searches continue, mutations wait until the snapshot is written (and, as
    /// with any waiting writer, searches that start after a mutation began waiting wait behind it). Free slots'
    /// stale vectors are not written.
    /// </remarks>
    public void WriteSnapshot(Stream destination)
    {
        var writer = new SnapshotWriter(destination, FlatKind);
        _lock.EnterReadLock();
        try
        {
            ReadOnlySpan<byte> states = _state.AsSpan(0, _highWater);
            writer.BeginSection(MetaTag, MetaLength);
            WriteShape(writer, Dimension, Metric);
            writer.WriteInt32(_highWater);
            writer.WriteInt32(_count);
            writer.EndSection();
            WriteStates(writer, states);
            WriteVectors(writer, _vectors, states);
            WriteReleased(writer, _released);
            writer.Finish();
        }
        finally
        {
            _lock.ExitReadLock();
        }
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
            reader.ReadTrailer();
            index._state = states;
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
}
