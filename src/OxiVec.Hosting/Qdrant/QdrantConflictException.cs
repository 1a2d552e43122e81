namespace OxiVec.Hosting.Qdrant;

/// <summary>A request that conflicts with what exists (Qdrant answers 409), e.g. creating a collection that exists.</summary>
public sealed class QdrantConflictException : InvalidOperationException
{
    /// <summary>Creates the exception; <paramref name="description"/> follows Qdrant's "Wrong input: " prefix.</summary>
    public QdrantConflictException(string description)
        : base($"Wrong input: {description}")
    {
    }
}
