using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// One of Qdrant's point update operations, parsed and checked (ids, vectors, payloads, filters), not yet applied.
/// <see cref="UpdateExecutor"/> applies a list of them, in order, as one transaction.
/// </summary>
internal abstract record UpdateOperation(string Path)
{
    /// <summary>Whether it writes without reading the points first (an upsert).</summary>
    public virtual bool IsBlind => false;

    /// <summary>How many points it names (each counts against MaxPointsPerRequest).</summary>
    public abstract int NamedPoints { get; }
}

/// <summary>Which points an operation applies to: listed ids, or those a filter matches (null: every point).</summary>
internal sealed record PointSelector(IReadOnlyList<string>? Ids, MetadataFilter? Filter, string Path)
{
    /// <summary>Whether the points are chosen by a filter.</summary>
    public bool ByFilter => Ids is null;
}

/// <summary>A point as an upsert gives it.</summary>
internal sealed record PointWrite(string Id, float[] Vector, Dictionary<string, MetadataValue> Payload, string Path);

/// <summary><c>upsert</c>: insert or replace whole points.</summary>
internal sealed record UpsertPoints(IReadOnlyList<PointWrite> Points, string Path) : UpdateOperation(Path)
{
    public override bool IsBlind => true;

    public override int NamedPoints => Points.Count;
}

/// <summary><c>delete</c>: remove points (absent ones are ignored, as in Qdrant).</summary>
internal sealed record DeletePoints(PointSelector Selector, string Path) : UpdateOperation(Path)
{
    public override int NamedPoints => Selector.Ids?.Count ?? 0;
}

/// <summary><c>set_payload</c> (merge the keys) or <c>overwrite_payload</c> (replace the payload).</summary>
internal sealed record SetPayload(Dictionary<string, MetadataValue> Payload, bool Overwrite, PointSelector Selector, string Path) : UpdateOperation(Path)
{
    public override int NamedPoints => Selector.Ids?.Count ?? 0;
}

/// <summary><c>delete_payload</c>: remove keys from the payload.</summary>
internal sealed record DeletePayloadKeys(IReadOnlyList<string> Keys, PointSelector Selector, string Path) : UpdateOperation(Path)
{
    public override int NamedPoints => Selector.Ids?.Count ?? 0;
}

/// <summary><c>clear_payload</c>: remove the whole payload.</summary>
internal sealed record ClearPayload(PointSelector Selector, string Path) : UpdateOperation(Path)
{
    public override int NamedPoints => Selector.Ids?.Count ?? 0;
}

/// <summary><c>update_vectors</c>: replace the vectors of existing points, keeping their payloads.</summary>
internal sealed record UpdateVectors(IReadOnlyList<PointWrite> Points, string Path) : UpdateOperation(Path)
{
    public override int NamedPoints => Points.Count;
}
