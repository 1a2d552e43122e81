using System.Collections.ObjectModel;

namespace OxiVec.Storage;

/// <summary>
/// A private, read-only copy of a record's metadata: what the store keeps and hands to readers. Copying when a write
/// is accepted means a caller that later changes or reuses its dictionary changes nothing acknowledged (the WAL,
/// the index's filters, readers and checkpoints all see the accepted values). <see cref="MetadataValue"/> is
/// itself immutable (string lists are copied), so a copy of the dictionary is a deep copy.
/// </summary>
internal sealed class FrozenMetadata : ReadOnlyDictionary<string, MetadataValue>
{
    /// <summary>No metadata.</summary>
    public static readonly FrozenMetadata None = new(new Dictionary<string, MetadataValue>(0, StringComparer.Ordinal));

    private FrozenMetadata(Dictionary<string, MetadataValue> fields)
        : base(fields)
    {
    }

    /// <summary>A frozen copy of <paramref name="metadata"/> (itself when it is already frozen; empty for null).</summary>
    public static FrozenMetadata Of(IReadOnlyDictionary<string, MetadataValue>? metadata) => metadata switch
    {
        null => None,
        FrozenMetadata frozen => frozen,
        _ => Copy(metadata),
    };

    private static FrozenMetadata Copy(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        var fields = new Dictionary<string, MetadataValue>(metadata, StringComparer.Ordinal);
        return fields.Count == 0 ? None : new FrozenMetadata(fields);
    }
}
