using Microsoft.Extensions.VectorData.ProviderServices;
using OxiVec.Storage;

namespace OxiVec.VectorData.Mapping;

/// <summary>
/// Orders stored records by key or data properties, each ascending or descending, as LINQ would order the
/// properties' values: nulls (and missing fields) first, numbers by value, strings ordinally (so
/// the sortable time form orders by time), false before true; keys by their typed value. Ties keep OxiVec's id order.
/// </summary>
internal sealed class RecordOrder(RecordMapper mapper, IReadOnlyList<(PropertyModel Property, bool Ascending)> sorts) : IComparer<VectorRecord>
{
    public int Compare(VectorRecord? x, VectorRecord? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        foreach ((PropertyModel property, bool ascending) in sorts)
        {
            int order = property is KeyPropertyModel
                ? Comparer<object>.Default.Compare(KeyConverter.FromId(x.Id, mapper.Key.Type), KeyConverter.FromId(y.Id, mapper.Key.Type))
                : CompareStored(Field(x, property), Field(y, property));
            if (order != 0)
            {
                return ascending ? order : -order;
            }
        }

        return RecordIdOrder.Instance.Compare(x.Id, y.Id);
    }

    private static MetadataValue Field(VectorRecord record, PropertyModel property) =>
        record.Metadata.TryGetValue(property.StorageName, out MetadataValue value) ? value : MetadataValue.Null;

    private static int CompareStored(MetadataValue a, MetadataValue b)
    {
        if (a.IsNull || b.IsNull)
        {
            return a.IsNull.CompareTo(b.IsNull) * -1;
        }

        return (a.Kind, b.Kind) switch
        {
            (MetadataKind.Long, MetadataKind.Long) => a.AsLong.CompareTo(b.AsLong),
            _ when a.IsNumber && b.IsNumber => a.AsNumber.CompareTo(b.AsNumber),
            (MetadataKind.String, MetadataKind.String) => string.CompareOrdinal(a.AsString, b.AsString),
            (MetadataKind.Bool, MetadataKind.Bool) => a.AsBool.CompareTo(b.AsBool),
            _ => throw new NotSupportedException($"OxiVec cannot order by values of kind {a.Kind} and {b.Kind} (order by scalar properties only)."),
        };
    }
}
