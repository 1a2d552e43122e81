using System.Text.Json;

namespace OxiVec.Client;

/// <summary>
/// One condition of a <see cref="Filter"/>: a payload field matching a value, one of several values or none of them,
/// a numeric range, a point id among a set, a field empty or null, or a nested filter. Keys name top-level payload
/// fields or nested ones (<c>a.b</c>, <c>a[].b</c>) as the server's filters accept them.
/// </summary>
public abstract class Condition
{
    private protected Condition()
    {
    }

    /// <summary>The field <paramref name="key"/> equals <paramref name="value"/> (or, for an array field, contains it).</summary>
    public static Condition Match(string key, string value) => new Keyed(key, "match", w => w.WriteString("value", Required(value)));

    /// <summary>The field <paramref name="key"/> equals <paramref name="value"/> (or, for an array field, contains it).</summary>
    public static Condition Match(string key, long value) => new Keyed(key, "match", w => w.WriteNumber("value", value));

    /// <summary>The field <paramref name="key"/> equals <paramref name="value"/> (or, for an array field, contains it).</summary>
    public static Condition Match(string key, bool value) => new Keyed(key, "match", w => w.WriteBoolean("value", value));

    /// <summary>The field <paramref name="key"/> equals one of <paramref name="values"/>.</summary>
    public static Condition MatchAny(string key, params IEnumerable<string> values) => Strings(key, "any", values);

    /// <summary>The field <paramref name="key"/> equals one of <paramref name="values"/>.</summary>
    public static Condition MatchAny(string key, params IEnumerable<long> values) => Numbers(key, "any", values);

    /// <summary>The field <paramref name="key"/> equals none of <paramref name="values"/>.</summary>
    public static Condition MatchExcept(string key, params IEnumerable<string> values) => Strings(key, "except", values);

    /// <summary>The field <paramref name="key"/> equals none of <paramref name="values"/>.</summary>
    public static Condition MatchExcept(string key, params IEnumerable<long> values) => Numbers(key, "except", values);

    /// <summary>The numeric field <paramref name="key"/> lies within the bounds given (null bounds are absent).</summary>
    /// <exception cref="ArgumentException">No bound is given, or a bound is not finite.</exception>
    public static Condition Range(string key, double? gt = null, double? gte = null, double? lt = null, double? lte = null)
    {
        double?[] bounds = [gt, gte, lt, lte];
        if (bounds.All(b => b is null))
        {
            throw new ArgumentException("A range needs at least one of gt, gte, lt, lte.", nameof(gt));
        }

        if (bounds.Any(b => b is { } d && !double.IsFinite(d)))
        {
            throw new ArgumentException("A range bound must be a finite number.", nameof(gt));
        }

        return new Keyed(key, "range", w =>
        {
            w.WriteStartObject("range");
            Bound(w, "gt", gt);
            Bound(w, "gte", gte);
            Bound(w, "lt", lt);
            Bound(w, "lte", lte);
            w.WriteEndObject();
        }, wrap: false);
    }

    /// <summary>
    /// OxiVec's extension (<c>oxivec_string_range</c>; a Qdrant server refuses it): the top-level string field
    /// <paramref name="key"/> lies ordinally within the bounds given (null bounds are absent). Fixed-width sortable
    /// timestamps (<c>2024-05-01T12:00:00.0000000Z</c>) compare chronologically this way.
    /// </summary>
    /// <exception cref="ArgumentException">No bound is given.</exception>
    public static Condition StringRange(string key, string? gt = null, string? gte = null, string? lt = null, string? lte = null)
    {
        if (gt is null && gte is null && lt is null && lte is null)
        {
            throw new ArgumentException("A string range needs at least one of gt, gte, lt, lte.", nameof(gt));
        }

        return new Keyed(key, "oxivec_string_range", w =>
        {
            w.WriteStartObject("oxivec_string_range");
            StringBound(w, "gt", gt);
            StringBound(w, "gte", gte);
            StringBound(w, "lt", lt);
            StringBound(w, "lte", lte);
            w.WriteEndObject();
        }, wrap: false);
    }

    /// <summary>The point's id is one of <paramref name="ids"/>.</summary>
    public static Condition HasId(params IEnumerable<PointId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PointId[] list = [.. ids];
        return new Custom(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("has_id");
            foreach (PointId id in list)
            {
                id.Write(w);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The field <paramref name="key"/> is absent, null or an empty array.</summary>
    public static Condition IsEmpty(string key) => KeyOnly("is_empty", key);

    /// <summary>The field <paramref name="key"/> is present and null.</summary>
    public static Condition IsNull(string key) => KeyOnly("is_null", key);

    /// <summary>The nested <paramref name="filter"/> holds.</summary>
    public static Condition Nested(Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new Custom(filter.Write);
    }

    internal abstract void Write(Utf8JsonWriter writer);

    private static Custom KeyOnly(string condition, string key)
    {
        string k = Key(key);
        return new Custom(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject(condition);
            w.WriteString("key", k);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static string Key(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return key;
    }

    private static string Required(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value;
    }

    private static Keyed Strings(string key, string name, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] list = [.. values.Select(Required)];
        return new Keyed(key, "match", w =>
        {
            w.WriteStartArray(name);
            foreach (string value in list)
            {
                w.WriteStringValue(value);
            }

            w.WriteEndArray();
        });
    }

    private static Keyed Numbers(string key, string name, IEnumerable<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long[] list = [.. values];
        return new Keyed(key, "match", w =>
        {
            w.WriteStartArray(name);
            foreach (long value in list)
            {
                w.WriteNumberValue(value);
            }

            w.WriteEndArray();
        });
    }

    private static void StringBound(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void Bound(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } d)
        {
            writer.WriteNumber(name, d);
        }
    }

    /// <summary><c>{"key": k, "match": {...}}</c> or <c>{"key": k, "range": {...}}</c>.</summary>
    private sealed class Keyed : Condition
    {
        private readonly string _key;
        private readonly string _kind;
        private readonly Action<Utf8JsonWriter> _body;
        private readonly bool _wrap;

        public Keyed(string key, string kind, Action<Utf8JsonWriter> body, bool wrap = true)
        {
            _key = Key(key);
            _kind = kind;
            _body = body;
            _wrap = wrap;
        }

        internal override void Write(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("key", _key);
            if (_wrap)
            {
                writer.WriteStartObject(_kind);
                _body(writer);
                writer.WriteEndObject();
            }
            else
            {
                _body(writer);
            }

            writer.WriteEndObject();
        }
    }

    private sealed class Custom(Action<Utf8JsonWriter> write) : Condition
    {
        internal override void Write(Utf8JsonWriter writer) => write(writer);
    }
}
