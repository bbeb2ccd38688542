using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

/// <summary>Source-generated (reflection-free) serialization for every frame type of the protocol.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ClientRequest))]
[JsonSerializable(typeof(WelcomeEvent))]
[JsonSerializable(typeof(JoinedEvent))]
[JsonSerializable(typeof(LeftEvent))]
[JsonSerializable(typeof(PresenceEvent))]
[JsonSerializable(typeof(PresenceBatchEvent))]
[JsonSerializable(typeof(DmEvent))]
[JsonSerializable(typeof(AckEvent))]
[JsonSerializable(typeof(MembersEvent))]
[JsonSerializable(typeof(RoomsEvent))]
[JsonSerializable(typeof(HistoryEvent))]
[JsonSerializable(typeof(NickEvent))]
[JsonSerializable(typeof(PongEvent))]
[JsonSerializable(typeof(ErrorEvent))]
[JsonSerializable(typeof(AuthedEvent))]
[JsonSerializable(typeof(RoomInfo[]))]
[JsonSerializable(typeof(StatsSnapshot))]
public sealed partial class ChatJsonContext : JsonSerializerContext;
