using System.Text.Json.Serialization;

namespace OxiVec.Cluster;

/// <summary>The JSON of the values stored in the coordinator (source-generated; enums as names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(LeaderInfo))]
[JsonSerializable(typeof(MemberState))]
[JsonSerializable(typeof(SyncState))]
[JsonSerializable(typeof(LeaderPosition))]
[JsonSerializable(typeof(SwitchoverRequest))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext
{
}
