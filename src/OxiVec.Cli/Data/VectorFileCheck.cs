using System.Numerics.Tensors;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Cli.Data;

/// <summary>
/// Checks a whole vector file against the collection it goes to before anything is written, so that a bad file is
/// refused as a whole: every component finite, a non-zero length for cosine, ids unique in the file and, unless
/// replacing is allowed, not in the collection yet. The file's own framing and dimension are the reader's checks.
/// </summary>
internal static class VectorFileCheck
{
    /// <summary>Reads every record of <paramref name="reader"/> and checks it; returns how many there are.</summary>
    /// <param name="metric">The collection's metric (cosine refuses zero vectors).</param>
    /// <param name="exists">Whether an id is in the collection already; null for a new collection (or for queries).</param>
    /// <param name="collection">The collection's name, for messages.</param>
    /// <exception cref="InputFileException">The first problem found.</exception>
    public static long CheckAll(
        VectorFileReader reader, DistanceMetric metric, Func<string, bool>? exists, Action<long>? progress, string collection,
        CancellationToken cancellationToken = default)
    {
        long count = 0;
        HashSet<string>? ids = reader is JsonlReader ? new HashSet<string>(StringComparer.Ordinal) : null;
        foreach (FileRecord record in reader.Read(progress))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Check(reader, record, metric);
            if (record.Id is { } id)
            {
                if (ids is not null && !ids.Add(id))
                {
                    throw new InputFileException(reader.Path, reader.Where(record.Position), $"id '{id}' appears twice in the file (first on an earlier {reader.PositionName}).");
                }

                if (exists is not null && exists(id))
                {
                    throw new InputFileException(
                        reader.Path, reader.Where(record.Position),
                        $"id '{id}' already exists in collection '{collection}'; pass --upsert to replace existing records.");
                }
            }

            count++;
        }

        return count;
    }

    /// <summary>Checks one vector: finite components, and a length cosine can normalise.</summary>
    public static void Check(VectorFileReader reader, FileRecord record, DistanceMetric metric)
    {
        ReadOnlySpan<float> vector = record.Vector;
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                throw new InputFileException(
                    reader.Path, reader.Where(record.Position), $"component {i} is {vector[i]}; vector components must be finite numbers.");
            }
        }

        if (metric == DistanceMetric.Cosine)
        {
            float norm = TensorPrimitives.Norm(vector);
            if (norm == 0f || !float.IsFinite(norm))
            {
                throw new InputFileException(
                    reader.Path, reader.Where(record.Position),
                    $"the vector's length is {norm}; a cosine collection cannot normalise it (a dot or l2 collection can store it).");
            }
        }
    }
}
