using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Qdrant's <c>CollectionInfo</c> for an OxiVec collection. OxiVec has no segments, optimizer or shards: the fields
/// Qdrant's clients require are filled with what describes OxiVec (one segment, optimizer ok, one shard and replica,
/// the HNSW compaction threshold as <c>deleted_threshold</c>, the WAL's segment size and sync interval).
/// </summary>
internal static class CollectionInfoJson
{
    public static Info From(CollectionInfo collection, WalConfig wal)
    {
        CollectionOptions options = collection.Options;
        bool graph = options.Index == IndexKind.Hnsw;
        var vectors = new VectorParamsJson(options.Dimension, CollectionCreateRequest.DistanceName(options.Metric), OnDisk: false);
        var hnsw = new HnswJson(graph ? options.Hnsw.M : 0, options.Hnsw.EfConstruction, FullScanThreshold: 0, MaxIndexingThreads: 0, OnDisk: false);
        var optimizer = new OptimizerJson(
            DeletedThreshold: options.Hnsw.CompactionThreshold, VacuumMinVectorNumber: 0, DefaultSegmentNumber: 1,
            FlushIntervalSec: (wal.SyncIntervalMs + 999) / 1000);
        var walJson = new WalJson((int)(wal.SegmentSizeBytes >> 20), wal.PreallocateSegments ? 1 : 0);
        var config = new ConfigJson(new ParamsJson(vectors, 1, 1, 1, OnDiskPayload: false), hnsw, optimizer, walJson, QuantizationConfig: null);
        return new Info("green", "ok", graph ? collection.Count : 0, collection.Count, 1, config, new Dictionary<string, object>());
    }

    internal sealed record Info(
        string Status, string OptimizerStatus, int IndexedVectorsCount, int PointsCount, int SegmentsCount, ConfigJson Config,
        Dictionary<string, object> PayloadSchema);

    internal sealed record ConfigJson(ParamsJson Params, HnswJson HnswConfig, OptimizerJson OptimizerConfig, WalJson WalConfig, object? QuantizationConfig);

    internal sealed record ParamsJson(VectorParamsJson Vectors, int ShardNumber, int ReplicationFactor, int WriteConsistencyFactor, bool OnDiskPayload);

    internal sealed record VectorParamsJson(int Size, string Distance, bool OnDisk);

    internal sealed record HnswJson(int M, int EfConstruct, int FullScanThreshold, int MaxIndexingThreads, bool OnDisk);

    internal sealed record OptimizerJson(double DeletedThreshold, int VacuumMinVectorNumber, int DefaultSegmentNumber, int FlushIntervalSec);

    internal sealed record WalJson(int WalCapacityMb, int WalSegmentsAhead);
}
