namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// A request Qdrant's API would refuse: bad input (400) naming the field, with its JSON path. It derives from
/// <see cref="ArgumentException"/> so the server's error handling answers 400 with Qdrant's envelope.
/// </summary>
public sealed class QdrantRequestException : ArgumentException
{
    /// <summary>Creates the exception; <paramref name="path"/> is the JSON path of the offending field, e.g. <c>points[3].vector</c>.</summary>
    public QdrantRequestException(string path, string message)
        : base($"Wrong input: {path}: {message}") => Path = path;

    /// <summary>The JSON path of the offending field.</summary>
    public string Path { get; }
}
