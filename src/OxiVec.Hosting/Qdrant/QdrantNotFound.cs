namespace OxiVec.Hosting.Qdrant;

/// <summary>Qdrant's 404 messages, as <see cref="KeyNotFoundException"/>s (which the error filter answers with 404).</summary>
internal static class QdrantNotFound
{
    /// <summary>No collection <paramref name="name"/>: <c>Not found: Collection `name` doesn't exist!</c></summary>
    public static KeyNotFoundException Collection(string name) => new($"Not found: Collection `{name}` doesn't exist!");

    /// <summary>No point <paramref name="id"/>: <c>Not found: No point with id 42 found</c></summary>
    public static KeyNotFoundException Point(string id) => new($"Not found: No point with id {id} found");
}
