using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Applies a list of <see cref="UpdateOperation"/>s to one collection as one transaction: all of them or, when any is
/// refused (an unknown point, a wrong vector), none. The points involved are locked (<see cref="PointLocks"/>) from
/// before they are read until the transaction is applied, so a read-modify-write never loses a concurrent write.
/// </summary>
internal sealed class UpdateExecutor(PointLocks locks, QdrantLimits limits)
{
    /// <summary>Applies <paramref name="operations"/>; returns the commit LSN (0 when they changed nothing).</summary>
    public async Task<long> ExecuteAsync(VectorDatabase database, string collection, IReadOnlyList<UpdateOperation> operations, CancellationToken cancellationToken)
    {
        // The points filters select now; each is checked again under the locks, against the state the operations before it left.
        var candidates = new Dictionary<PointSelector, IReadOnlyList<string>>(ReferenceEqualityComparer.Instance);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        long named = 0;
        foreach (UpdateOperation operation in operations)
        {
            named += operation.NamedPoints;
            foreach (string id in NamedIds(operation))
            {
                ids.Add(id);
            }

            if (SelectorOf(operation) is { ByFilter: true } selector)
            {
                IReadOnlyList<string> found = FindIds(database, collection, selector.Filter, limits.MaxPoints + 1);
                limits.CheckPoints(named + found.Count, selector.Path);
                named += found.Count;
                candidates[selector] = found;
                ids.UnionWith(found);
            }
        }

        bool blind = operations.All(o => o.IsBlind);
        using PointLocks.Held held = await locks.AcquireAsync(collection, ids, exclusive: !blind, cancellationToken).ConfigureAwait(false);
        var overlay = new PointOverlay(database, collection);
        foreach (UpdateOperation operation in operations)
        {
            Apply(overlay, operation, candidates);
        }

        using VectorTransaction transaction = database.BeginTransaction();
        overlay.Stage(transaction);
        // Not cancellable: a commit whose wait is abandoned may still be logged and applied later, after the locks
        // were released, and a read-modify-write that read before it would then overwrite it.
        return transaction.Count == 0 ? 0 : await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static void Apply(PointOverlay overlay, UpdateOperation operation, Dictionary<PointSelector, IReadOnlyList<string>> candidates)
    {
        switch (operation)
        {
            case UpsertPoints upsert:
                foreach (PointWrite point in upsert.Points)
                {
                    overlay.Put(point.Id, new PointOverlay.Point(point.Vector, new Dictionary<string, MetadataValue>(point.Payload, StringComparer.Ordinal)));
                }

                break;
            case DeletePoints delete:
                foreach (string id in Select(overlay, delete.Selector, candidates, mustExist: false))
                {
                    overlay.Remove(id);
                }

                break;
            case SetPayload set:
                foreach (string id in Select(overlay, set.Selector, candidates, mustExist: true))
                {
                    PointOverlay.Point point = overlay.Get(id)!;
                    Dictionary<string, MetadataValue> payload = set.Overwrite ? new(StringComparer.Ordinal) : new(point.Payload, StringComparer.Ordinal);
                    foreach ((string key, MetadataValue value) in set.Payload)
                    {
                        payload[key] = value;
                    }

                    overlay.Put(id, point with { Payload = payload });
                }

                break;
            case DeletePayloadKeys delete:
                foreach (string id in Select(overlay, delete.Selector, candidates, mustExist: true))
                {
                    PointOverlay.Point point = overlay.Get(id)!;
                    var payload = new Dictionary<string, MetadataValue>(point.Payload, StringComparer.Ordinal);
                    foreach (string key in delete.Keys)
                    {
                        payload.Remove(key);
                    }

                    overlay.Put(id, point with { Payload = payload });
                }

                break;
            case ClearPayload clear:
                foreach (string id in Select(overlay, clear.Selector, candidates, mustExist: true))
                {
                    overlay.Put(id, overlay.Get(id)! with { Payload = new(StringComparer.Ordinal) });
                }

                break;
            case UpdateVectors update:
                foreach (PointWrite write in update.Points)
                {
                    PointOverlay.Point point = overlay.Get(write.Id) ?? throw QdrantNotFound.Point(write.Id);
                    overlay.Put(write.Id, point with { Vector = write.Vector });
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown update operation {operation.GetType().Name}.");
        }
    }

    /// <summary>
    /// The points <paramref name="selector"/> picks as this request sees them: listed ids (each must exist when
    /// <paramref name="mustExist"/>, as Qdrant's payload operations require), or the points the filter matches now.
    /// </summary>
    private static List<string> Select(PointOverlay overlay, PointSelector selector, Dictionary<PointSelector, IReadOnlyList<string>> candidates, bool mustExist)
    {
        if (selector.Ids is { } ids)
        {
            if (mustExist)
            {
                foreach (string id in ids)
                {
                    _ = overlay.Get(id) ?? throw QdrantNotFound.Point(id);
                }
            }

            return [.. ids];
        }

        var selected = new List<string>();
        foreach (string id in candidates[selector].Concat(overlay.Touched).Distinct(StringComparer.Ordinal).ToList())
        {
            if (overlay.Get(id) is { } point && (selector.Filter is null || selector.Filter.Matches(id, point.Payload)))
            {
                selected.Add(id);
            }
        }

        return selected;
    }

    private static IEnumerable<string> NamedIds(UpdateOperation operation) => operation switch
    {
        UpsertPoints upsert => upsert.Points.Select(p => p.Id),
        UpdateVectors update => update.Points.Select(p => p.Id),
        _ => SelectorOf(operation)?.Ids ?? [],
    };

    private static PointSelector? SelectorOf(UpdateOperation operation) => operation switch
    {
        DeletePoints d => d.Selector,
        SetPayload s => s.Selector,
        DeletePayloadKeys d => d.Selector,
        ClearPayload c => c.Selector,
        _ => null,
    };

    /// <summary>At most <paramref name="max"/> ids of points <paramref name="filter"/> matches (null: every point).</summary>
    private static IReadOnlyList<string> FindIds(VectorDatabase database, string collection, MetadataFilter? filter, int max) =>
        filter is null
            ? [.. database.Scroll(collection, null, null, max).Select(r => r.Id)]
            : database.FindIds(collection, filter, max);
}
