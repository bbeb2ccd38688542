namespace ChatHub.Server.Protocol;

/// <summary>
/// A room message as stored and delivered. <see cref="Ref"/> is the sender's idempotency key; it is
/// stored (so dedup survives a restart) but never sent to other members.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ChatMessageJsonConverter))]
public sealed record ChatMessage(string Room, long Seq, string From, string Text, DateTimeOffset Timestamp, string? Ref);
