using System.Text.Json.Serialization;

namespace OxiVec.Cli.Output;

/// <summary>Source-generated (trimming-safe) serialization for the few values serialized outside a <see cref="System.Text.Json.Utf8JsonWriter"/>.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
