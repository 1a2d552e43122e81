using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Hosting.Server;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The request limits of <see cref="ServerOptions"/> as the Qdrant endpoints enforce them: each refusal is a 400 that
/// names the field and the setting.
/// </summary>
internal sealed class QdrantLimits(ServerOptions options)
{
    /// <summary>The deepest filter nesting accepted (<see cref="ServerOptions.MaxFilterDepth"/>).</summary>
    public int MaxFilterDepth { get; } = options.MaxFilterDepth;

    /// <summary>The most points one request may write or name (<see cref="ServerOptions.MaxPointsPerRequest"/>).</summary>
    public int MaxPoints { get; } = options.MaxPointsPerRequest;

    /// <summary>The largest <c>limit</c> (and <c>limit + offset</c>) (<see cref="ServerOptions.MaxLimit"/>).</summary>
    public int MaxLimit { get; } = options.MaxLimit;

    /// <summary>The largest vector size of a new collection (<see cref="ServerOptions.MaxDimension"/>).</summary>
    public int MaxDimension { get; } = options.MaxDimension;

    /// <summary>Refuses <paramref name="count"/> points in one request when it is more than the limit.</summary>
    public void CheckPoints(long count, string path)
    {
        if (count > MaxPoints)
        {
            throw new QdrantRequestException(path, $"{count} points in one request is more than the server's MaxPointsPerRequest ({MaxPoints}).");
        }
    }

    /// <summary>Refuses a <c>limit</c> (plus <c>offset</c>) larger than the limit.</summary>
    public void CheckLimit(long limit, long offset, string path)
    {
        if (limit + offset > MaxLimit)
        {
            throw new QdrantRequestException(
                path, offset == 0
                    ? $"limit {limit} is more than the server's MaxLimit ({MaxLimit})."
                    : $"limit {limit} plus offset {offset} is more than the server's MaxLimit ({MaxLimit}).");
        }
    }

    /// <summary>Refuses a vector size larger than the limit.</summary>
    public void CheckDimension(long size, string path)
    {
        if (size > MaxDimension)
        {
            throw new QdrantRequestException(path, $"size {size} is more than the server's MaxDimension ({MaxDimension}).");
        }
    }
}
