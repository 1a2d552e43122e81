using Microsoft.Extensions.VectorData;

namespace OxiVec.VectorData.Tests.Support;

/// <summary>A record with a string key, a few data properties and a 3-dimensional vector.</summary>
public sealed class Hotel
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public string? Name { get; set; }

    [VectorStoreData]
    public int Rating { get; set; }

    [VectorStoreData]
    public bool Parking { get; set; }

    [VectorStoreData]
    public string[] Tags { get; set; } = [];

    [VectorStoreVector(3, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = IndexKind.Flat)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}
