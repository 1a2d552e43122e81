namespace OxiVec.Storage;

/// <summary>
/// The fields of an object <see cref="MetadataValue"/>, immutable, in the order they were given (JSON writes them
/// back in that order). Lookups are linear for a few fields and hashed beyond <see cref="HashedFrom"/>.
/// </summary>
internal sealed class MetadataObject
{
    private const int HashedFrom = 9;

    private readonly string[] _names;
    private readonly MetadataValue[] _values;
    private readonly Dictionary<string, int>? _byName;

    /// <exception cref="ArgumentException">A null or repeated name.</exception>
    public MetadataObject(IEnumerable<KeyValuePair<string, MetadataValue>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var names = new List<string>();
        var values = new List<MetadataValue>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, MetadataValue> field in fields)
        {
            if (field.Key is null)
            {
                throw new ArgumentException("A metadata object field name cannot be null.", nameof(fields));
            }

            if (!seen.Add(field.Key))
            {
                throw new ArgumentException($"The metadata object field '{field.Key}' appears twice.", nameof(fields));
            }

            names.Add(field.Key);
            values.Add(field.Value);
        }

        _names = [.. names];
        _values = [.. values];
        if (_names.Length >= HashedFrom)
        {
            _byName = new Dictionary<string, int>(_names.Length, StringComparer.Ordinal);
            for (int i = 0; i < _names.Length; i++)
            {
                _byName[_names[i]] = i;
            }
        }
    }

    public int Count => _names.Length;

    public string NameAt(int index) => _names[index];

    public MetadataValue ValueAt(int index) => _values[index];

    public IReadOnlyList<KeyValuePair<string, MetadataValue>> Fields()
    {
        var fields = new KeyValuePair<string, MetadataValue>[_names.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = new(_names[i], _values[i]);
        }

        return fields;
    }

    public bool TryGet(string name, out MetadataValue value)
    {
        int index = -1;
        if (_byName is not null)
        {
            if (!_byName.TryGetValue(name, out index))
            {
                index = -1;
            }
        }
        else
        {
            for (int i = 0; i < _names.Length; i++)
            {
                if (string.Equals(_names[i], name, StringComparison.Ordinal))
                {
                    index = i;
                    break;
                }
            }
        }

        value = index >= 0 ? _values[index] : default;
        return index >= 0;
    }

    /// <summary>Same names with equal values, in any order.</summary>
    public bool SameAs(MetadataObject other)
    {
        if (other.Count != Count)
        {
            return false;
        }

        for (int i = 0; i < _names.Length; i++)
        {
            if (!other.TryGet(_names[i], out MetadataValue theirs) || !theirs.Equals(_values[i]))
            {
                return false;
            }
        }

        return true;
    }
}
