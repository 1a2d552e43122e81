using OxiVec.Storage;

namespace OxiVec.Cli.Data;

/// <summary>One record read from a vector file.</summary>
/// <param name="Position">The 0-based row (.fvecs, .npy) or the 1-based line (.jsonl).</param>
/// <param name="Id">The record id: <c>v{row}</c> for .fvecs and .npy, the "id" of a .jsonl line (null when the line has none).</param>
/// <param name="Vector">The vector.</param>
/// <param name="Metadata">The metadata (.jsonl only), or null.</param>
internal sealed record FileRecord(long Position, string? Id, float[] Vector, IReadOnlyDictionary<string, MetadataValue>? Metadata);
