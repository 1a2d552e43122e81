using Microsoft.Extensions.VectorData;

namespace OxiVec.VectorData.Tests.Support;

/// <summary>Record definitions the suites build collections from.</summary>
public static class Definitions
{
    /// <summary>A string key "Id" and a 3-float vector "Embedding" with the given distance function and index kind.</summary>
    public static VectorStoreCollectionDefinition Vector(string? distanceFunction, string? indexKind = IndexKind.Flat) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty("Id", typeof(string)),
            new VectorStoreVectorProperty("Embedding", typeof(ReadOnlyMemory<float>), 3) { DistanceFunction = distanceFunction, IndexKind = indexKind },
        ],
    };
}
