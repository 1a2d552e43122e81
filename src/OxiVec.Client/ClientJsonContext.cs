using System.Text.Json.Serialization;

namespace OxiVec.Client;

/// <summary>Source-generated (reflection-free) JSON of the typed answers, in the server's snake_case.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CheckpointResult))]
[JsonSerializable(typeof(WalMetricsReport))]
[JsonSerializable(typeof(WalHealthResult))]
[JsonSerializable(typeof(RecoveryReport))]
internal sealed partial class ClientJsonContext : JsonSerializerContext
{
}
