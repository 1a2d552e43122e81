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
        { Count: 0 } => None, // no dictionary copied to find it empty (a replicated or replayed write's decoded metadata)
        _ => Copy(metadata),
    };

    /// <summary>
    /// Copies the fields into <paramref name="destination"/> (at least <see cref="ReadOnlyDictionary{TKey, TValue}.Count"/>
    /// long) and returns how many, allocating nothing (an enumeration through the interface would box an enumerator).
    /// </summary>
    public int CopyFieldsTo(Span<KeyValuePair<string, MetadataValue>> destination)
    {
        int n = 0;
        foreach (KeyValuePair<string, MetadataValue> field in (Dictionary<string, MetadataValue>)Dictionary)
        {
            destination[n++] = field;
        }

        return n;
    }

    private static FrozenMetadata Copy(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        var fields = new Dictionary<string, MetadataValue>(metadata, StringComparer.Ordinal);
        return fields.Count == 0 ? None : new FrozenMetadata(fields);
    }
}
