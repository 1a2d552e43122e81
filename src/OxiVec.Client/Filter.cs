using System.Text.Json;

namespace OxiVec.Client;

/// <summary>
/// A filter as the server takes it (Qdrant's): every condition of <see cref="Must"/>, at least one of
/// <see cref="Should"/> (when it has any), and none of <see cref="MustNot"/>. Filters nest through
/// <see cref="Condition.Nested(Filter)"/>. An empty filter matches every point.
/// </summary>
/// <example><c>Filter.Must(Condition.Match("city", "London"), Condition.Range("price", lt: 10))</c></example>
public sealed class Filter
{
    /// <summary>Conditions that must all hold.</summary>
    public IList<Condition> MustConditions { get; } = new List<Condition>();

    /// <summary>Conditions of which at least one must hold (when there are any).</summary>
    public IList<Condition> ShouldConditions { get; } = new List<Condition>();

    /// <summary>Conditions of which none may hold.</summary>
    public IList<Condition> MustNotConditions { get; } = new List<Condition>();

    /// <summary>A filter of conditions that must all hold.</summary>
    public static Filter Must(params IEnumerable<Condition> conditions) => new Filter().AndMust(conditions);

    /// <summary>A filter of conditions of which at least one must hold.</summary>
    public static Filter Should(params IEnumerable<Condition> conditions) => new Filter().AndShould(conditions);

    /// <summary>A filter of conditions of which none may hold.</summary>
    public static Filter MustNot(params IEnumerable<Condition> conditions) => new Filter().AndMustNot(conditions);

    /// <summary>Adds conditions that must all hold; returns this filter.</summary>
    public Filter AndMust(params IEnumerable<Condition> conditions) => Add(MustConditions, conditions);

    /// <summary>Adds conditions of which at least one must hold; returns this filter.</summary>
    public Filter AndShould(params IEnumerable<Condition> conditions) => Add(ShouldConditions, conditions);

    /// <summary>Adds conditions of which none may hold; returns this filter.</summary>
    public Filter AndMustNot(params IEnumerable<Condition> conditions) => Add(MustNotConditions, conditions);

    /// <summary>The filter's JSON, as the server takes it.</summary>
    public override string ToString()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        WriteClause(writer, "must", MustConditions);
        WriteClause(writer, "should", ShouldConditions);
        WriteClause(writer, "must_not", MustNotConditions);
        writer.WriteEndObject();
    }

    private static void WriteClause(Utf8JsonWriter writer, string name, IList<Condition> conditions)
    {
        if (conditions.Count == 0)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (Condition condition in conditions)
        {
            condition.Write(writer);
        }

        writer.WriteEndArray();
    }

    private Filter Add(IList<Condition> list, IEnumerable<Condition> conditions)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        foreach (Condition condition in conditions)
        {
            ArgumentNullException.ThrowIfNull(condition, nameof(conditions));
            list.Add(condition);
        }

        return this;
    }
}
