using Microsoft.Extensions.AI;
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

/// <summary>The record of the filter suite: one property of each filtered kind.</summary>
public sealed class FilterRecord
{
    [VectorStoreKey]
    public int Id { get; set; }

    [VectorStoreData(StorageName = "int_field")]
    public int Int { get; set; }

    [VectorStoreData]
    public long Long { get; set; }

    [VectorStoreData]
    public double Double { get; set; }

    [VectorStoreData]
    public string? String { get; set; }

    [VectorStoreData]
    public bool Bool { get; set; }

    [VectorStoreData]
    public DateTimeOffset When { get; set; }

    [VectorStoreData]
    public string[] StringArray { get; set; } = [];

    [VectorStoreData]
    public List<string> StringList { get; set; } = [];

    [VectorStoreData]
    public int[] IntArray { get; set; } = [];

    [VectorStoreVector(3, DistanceFunction = DistanceFunction.EuclideanDistance, IndexKind = IndexKind.Flat)]
    public ReadOnlyMemory<float> Vector { get; set; }
}

/// <summary>A record whose vector is generated from its text.</summary>
public sealed class TextRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreData]
    public string Text { get; set; } = "";

    [VectorStoreVector(3)]
    public string? Embedding { get; set; }
}

/// <summary>A record with a float vector that can also be searched by text when a generator is configured.</summary>
public sealed class NativeVectorRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreVector(3)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}

/// <summary>Two vector properties: OxiVec refuses this model.</summary>
public sealed class TwoVectorRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreVector(3)]
    public ReadOnlyMemory<float> First { get; set; }

    [VectorStoreVector(3)]
    public ReadOnlyMemory<float> Second { get; set; }
}

/// <summary>A key and a vector, no data.</summary>
public sealed class NoDataRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreVector(3)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}

/// <summary>A key and data, no vector.</summary>
public sealed class NoVectorRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreData]
    public string Text { get; set; } = "";

    [VectorStoreData]
    public int Number { get; set; }
}

/// <summary>A record of every supported data type.</summary>
public sealed class AllTypesRecord
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreData] public string String { get; set; } = "";
    [VectorStoreData] public bool Bool { get; set; }
    [VectorStoreData] public int Int { get; set; }
    [VectorStoreData] public long Long { get; set; }
    [VectorStoreData] public float Float { get; set; }
    [VectorStoreData] public double Double { get; set; }
    [VectorStoreData] public decimal Decimal { get; set; }
    [VectorStoreData] public DateTime DateTime { get; set; }
    [VectorStoreData] public DateTimeOffset DateTimeOffset { get; set; }
    [VectorStoreData] public Guid Guid { get; set; }

    [VectorStoreData] public string? NullableString { get; set; }
    [VectorStoreData] public bool? NullableBool { get; set; }
    [VectorStoreData] public int? NullableInt { get; set; }
    [VectorStoreData] public long? NullableLong { get; set; }
    [VectorStoreData] public float? NullableFloat { get; set; }
    [VectorStoreData] public double? NullableDouble { get; set; }
    [VectorStoreData] public decimal? NullableDecimal { get; set; }
    [VectorStoreData] public DateTime? NullableDateTime { get; set; }
    [VectorStoreData] public DateTimeOffset? NullableDateTimeOffset { get; set; }
    [VectorStoreData] public Guid? NullableGuid { get; set; }

    [VectorStoreData] public string[] StringArray { get; set; } = [];
    [VectorStoreData] public bool[] BoolArray { get; set; } = [];
    [VectorStoreData] public int[] IntArray { get; set; } = [];
    [VectorStoreData] public long[] LongArray { get; set; } = [];
    [VectorStoreData] public float[] FloatArray { get; set; } = [];
    [VectorStoreData] public double[] DoubleArray { get; set; } = [];
    [VectorStoreData] public decimal[] DecimalArray { get; set; } = [];
    [VectorStoreData] public DateTime[] DateTimeArray { get; set; } = [];
    [VectorStoreData] public DateTimeOffset[] DateTimeOffsetArray { get; set; } = [];
    [VectorStoreData] public Guid[] GuidArray { get; set; } = [];
    [VectorStoreData] public List<string> StringList { get; set; } = [];
    [VectorStoreData] public List<int> IntList { get; set; } = [];
    [VectorStoreData] public List<double> DoubleList { get; set; } = [];
    [VectorStoreData] public int?[] NullableIntArray { get; set; } = [];
    [VectorStoreData] public string[]? NullableStringArray { get; set; }

    [VectorStoreVector(2, DistanceFunction = DistanceFunction.EuclideanDistance)]
    public ReadOnlyMemory<float> Vector { get; set; }
}

/// <summary>A record with a key of type <typeparamref name="TKey"/>.</summary>
public sealed class KeyedRecord<TKey>
{
    [VectorStoreKey]
    public TKey Key { get; set; } = default!;

    [VectorStoreData]
    public string Text { get; set; } = "";

    [VectorStoreVector(2, DistanceFunction = DistanceFunction.EuclideanDistance)]
    public ReadOnlyMemory<float> Vector { get; set; }
}

/// <summary>A record with an auto-generated Guid key.</summary>
public sealed class AutoKeyRecord
{
    [VectorStoreKey(IsAutoGenerated = true)]
    public Guid Key { get; set; }

    [VectorStoreData]
    public string Text { get; set; } = "";

    [VectorStoreVector(2, DistanceFunction = DistanceFunction.EuclideanDistance)]
    public ReadOnlyMemory<float> Vector { get; set; }
}

/// <summary>A record whose vector is of type <typeparamref name="TVector"/>.</summary>
public sealed class VectorTypeRecord<TVector>
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreVector(3, DistanceFunction = DistanceFunction.EuclideanDistance)]
    public TVector Vector { get; set; } = default!;
}

/// <summary>Test helpers for embeddings.</summary>
public static class Vectors
{
    /// <summary>The floats of an embedding.</summary>
    public static float[] Of(Embedding<float> embedding) => embedding.Vector.ToArray();
}
