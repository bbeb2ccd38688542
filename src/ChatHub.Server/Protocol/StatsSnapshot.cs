using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

/// <summary>The body of <c>GET /api/stats</c>.</summary>
public sealed record StatsSnapshot(
    [property: JsonPropertyName("connections")] long Connections,
    [property: JsonPropertyName("rooms")] long Rooms,
    [property: JsonPropertyName("messagesIn")] long MessagesIn,
    [property: JsonPropertyName("messagesOut")] long MessagesOut,
    [property: JsonPropertyName("workingSetBytes")] long WorkingSetBytes,
    [property: JsonPropertyName("gcHeapBytes")] long GcHeapBytes,
    [property: JsonPropertyName("uptimeSeconds")] double UptimeSeconds);
