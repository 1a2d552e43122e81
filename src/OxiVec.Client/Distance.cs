namespace OxiVec.Client;

/// <summary>A collection's distance function, as the server names it.</summary>
public enum Distance
{
    /// <summary>Cosine similarity (score: higher is closer). The server returns a Cosine collection's vectors scaled to unit length.</summary>
    Cosine,

    /// <summary>Euclidean distance (score: lower is closer).</summary>
    Euclid,

    /// <summary>Dot product (score: higher is closer).</summary>
    Dot,
}
