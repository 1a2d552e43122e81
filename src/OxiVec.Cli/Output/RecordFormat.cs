using System.Globalization;
using System.Text;
using System.Text.Json;
using OxiVec.Wal;

namespace OxiVec.Cli.Output;

/// <summary>How records and their decoded entries are shown: one text line, or snake_case JSON fields.</summary>
internal static class RecordFormat
{
    /// <summary>ISO 8601, UTC, with the microseconds the WAL stores.</summary>
    public static string Timestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>insert</c>, <c>transaction_begin</c>, ...</summary>
    public static string TypeName(WalRecordType type) =>
        Enum.IsDefined(type) ? JsonNamingPolicy.SnakeCaseLower.ConvertName(type.ToString()) : ((byte)type).ToString(CultureInfo.InvariantCulture);

    /// <summary><c>none</c>, <c>transaction_member</c> (comma-separated when several are set).</summary>
    public static string FlagsName(WalRecordFlags flags) => flags == WalRecordFlags.None
        ? "none"
        : string.Join(',', flags.ToString().Split(", ").Select(JsonNamingPolicy.SnakeCaseLower.ConvertName));

    /// <summary>The flags column of the text dump: <c>-</c> or <c>tx-member</c>.</summary>
    public static string FlagsColumn(WalRecordFlags flags) => flags switch
    {
        WalRecordFlags.None => "-",
        WalRecordFlags.TransactionMember => "tx-member",
        _ => FlagsName(flags),
    };

    /// <summary>
    /// The entry's fields as <c>key=value</c> pairs (the keys of the JSON dump), e.g.
    /// <c>collection=docs id=v1 dimension=384 metadata_bytes=0</c>.
    /// </summary>
    public static string Summary(WalEntry entry)
    {
        var s = new StringBuilder();
        foreach ((string key, object value) in Fields(entry))
        {
            if (s.Length > 0)
            {
                s.Append(' ');
            }

            s.Append(key).Append('=');
            if (value is string text)
            {
                s.Append(QuoteIfNeeded(text));
            }
            else
            {
                s.Append(CultureInfo.InvariantCulture, $"{value}");
            }
        }

        return s.ToString();
    }

    /// <summary>Writes the entry's fields into the JSON object being written.</summary>
    public static void WriteFields(Utf8JsonWriter json, WalEntry entry)
    {
        foreach ((string key, object value) in Fields(entry))
        {
            switch (value)
            {
                case string text:
                    json.WriteString(key, text);
                    break;
                case long number:
                    json.WriteNumber(key, number);
                    break;
                case int number:
                    json.WriteNumber(key, number);
                    break;
                default:
                    throw new InvalidOperationException($"Unexpected field type {value.GetType().Name} for '{key}'.");
            }
        }
    }

    /// <summary>The fields each kind of entry shows, in order; values are strings, ints or longs.</summary>
    private static (string Key, object Value)[] Fields(WalEntry entry)
    {
        switch (entry)
        {
            case WalEntry.Insert e:
                return VectorFields(e.Collection, e.Id, e.Vector.Length, e.Metadata.Length);
            case WalEntry.Update e:
                return VectorFields(e.Collection, e.Id, e.Vector.Length, e.Metadata.Length);
            case WalEntry.Delete e:
                return [("collection", e.Collection), ("id", e.Id)];
            case WalEntry.Checkpoint e:
                return [("sequence", e.Sequence), ("covered_lsn", e.CoveredLsn)];
            case WalEntry.Custom e:
                return [("operation", e.Operation), ("payload_bytes", e.Payload.Length)];
            case WalEntry.TransactionBegin e:
                return [("entry_count", e.EntryCount)];
            case WalEntry.TransactionCommit e:
                return [("begin_lsn", e.BeginLsn), ("entry_count", e.EntryCount)];
            case WalEntry.TransactionAbort e:
                return [("begin_lsn", e.BeginLsn)];
            case WalEntry.PrepareTransaction e:
                return [("gid", e.Gid), ("payload_bytes", e.Payload.Length)];
            case WalEntry.CommitPrepared e:
                return [("gid", e.Gid)];
            case WalEntry.RollbackPrepared e:
                return [("gid", e.Gid)];
            default:
                return [];
        }
    }

    private static (string, object)[] VectorFields(string collection, string id, int dimension, int metadataBytes) =>
        [("collection", collection), ("id", id), ("dimension", dimension), ("metadata_bytes", metadataBytes)];

    /// <summary>Leaves simple values bare; quotes (JSON-style) values that are empty or hold spaces, quotes, '=' or control characters.</summary>
    private static string QuoteIfNeeded(string value)
    {
        bool plain = value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '=' or '\\');
        return plain ? value : JsonSerializer.Serialize(value, CliJsonContext.Default.String);
    }
}
