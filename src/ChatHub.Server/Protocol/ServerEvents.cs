using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

// One type per server-to-client frame of docs/protocol.md. Field names are the wire's; `type` comes first.

public abstract class ServerEvent(string type)
{
    [JsonPropertyName("type"), JsonPropertyOrder(-1)]
    public string Type { get; } = type;
}

public sealed class WelcomeEvent(string name, string session, string server, WelcomeLimits limits) : ServerEvent("welcome")
{
    [JsonPropertyName("name")] public string Name { get; } = name;
    [JsonPropertyName("session")] public string Session { get; } = session;
    [JsonPropertyName("server")] public string Server { get; } = server;
    [JsonPropertyName("limits")] public WelcomeLimits Limits { get; } = limits;
}

public sealed record WelcomeLimits(
    [property: JsonPropertyName("maxMessageBytes")] int MaxMessageBytes,
    [property: JsonPropertyName("maxRooms")] int MaxRooms,
    [property: JsonPropertyName("ratePerSecond")] int RatePerSecond);

public sealed class JoinedEvent(string room, IReadOnlyList<string> members, IReadOnlyList<ChatMessage> history, bool truncated) : ServerEvent("joined")
{
    [JsonPropertyName("room")] public string Room { get; } = room;
    [JsonPropertyName("members")] public IReadOnlyList<string> Members { get; } = members;
    [JsonPropertyName("history")] public IReadOnlyList<ChatMessage> History { get; } = history;
    [JsonPropertyName("truncated")] public bool Truncated { get; } = truncated;
}

public sealed class LeftEvent(string room) : ServerEvent("left")
{
    [JsonPropertyName("room")] public string Room { get; } = room;
}

public sealed class PresenceEvent(string room, string name, string presence, string? to, int memberCount) : ServerEvent("presence")
{
    public const string Join = "join";
    public const string Leave = "leave";
    public const string Rename = "rename";

    [JsonPropertyName("room")] public string Room { get; } = room;
    [JsonPropertyName("name")] public string Name { get; } = name;
    [JsonPropertyName("event")] public string Event { get; } = presence;

    [JsonPropertyName("to"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? To { get; } = to;

    /// <summary>Only the text format shows it ("3 members"); JSON clients count the members themselves.</summary>
    [JsonIgnore] public int MemberCount { get; } = memberCount;
}

/// <summary>
/// A room's presence changes of one tick, in the order they happened, for connections that asked for batches
/// (<c>presence=batch</c>). Every member that asked gets the same frame, its own changes included.
/// </summary>
public sealed class PresenceBatchEvent(string room, IReadOnlyList<PresenceItem> changes, int memberCount) : ServerEvent("presence_batch")
{
    [JsonPropertyName("room")] public string Room { get; } = room;
    [JsonPropertyName("changes")] public IReadOnlyList<PresenceItem> Changes { get; } = changes;

    /// <summary>Members of the room, cluster-wide, after the last change: a client checks its list against it.</summary>
    [JsonPropertyName("memberCount")] public int MemberCount { get; } = memberCount;
}

/// <summary>One change in a <see cref="PresenceBatchEvent"/>: the fields of a <c>presence</c> event without its room.</summary>
public sealed record PresenceItem(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("to"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? To);

public sealed class MessageEvent(ChatMessage message) : ServerEvent("message")
{
    [JsonIgnore] public ChatMessage Message { get; } = message;
}

public sealed class DmEvent(string from, string to, string text, DateTimeOffset timestamp) : ServerEvent("dm")
{
    [JsonPropertyName("from")] public string From { get; } = from;
    [JsonPropertyName("to")] public string To { get; } = to;
    [JsonPropertyName("text")] public string Text { get; } = text;
    [JsonPropertyName("ts"), JsonConverter(typeof(WireTimestampConverter))] public DateTimeOffset Timestamp { get; } = timestamp;
}

public sealed class AckEvent(string? reference, string? room, long? seq) : ServerEvent("ack")
{
    [JsonPropertyName("ref")] public string? Ref { get; } = reference;
    [JsonPropertyName("room")] public string? Room { get; } = room;
    [JsonPropertyName("seq")] public long? Seq { get; } = seq;
}

public sealed class MembersEvent(string room, IReadOnlyList<string> members) : ServerEvent("members")
{
    [JsonPropertyName("room")] public string Room { get; } = room;
    [JsonPropertyName("members")] public IReadOnlyList<string> Members { get; } = members;
}

public sealed record RoomInfo(
    [property: JsonPropertyName("room")] string Room,
    [property: JsonPropertyName("members")] int Members);

public sealed class RoomsEvent(IReadOnlyList<RoomInfo> rooms) : ServerEvent("rooms")
{
    [JsonPropertyName("rooms")] public IReadOnlyList<RoomInfo> Rooms { get; } = rooms;
}

public sealed class HistoryEvent(string room, IReadOnlyList<ChatMessage> messages) : ServerEvent("history")
{
    [JsonPropertyName("room")] public string Room { get; } = room;
    [JsonPropertyName("messages")] public IReadOnlyList<ChatMessage> Messages { get; } = messages;
}

public sealed class NickEvent(string name, string old) : ServerEvent("nick")
{
    [JsonPropertyName("name")] public string Name { get; } = name;
    [JsonPropertyName("old")] public string Old { get; } = old;
}

public sealed class PongEvent(string? reference) : ServerEvent("pong")
{
    [JsonPropertyName("ref")] public string? Ref { get; } = reference;
}

public sealed class ErrorEvent(string code, string message, string? reference) : ServerEvent("error")
{
    [JsonPropertyName("code")] public string Code { get; } = code;
    [JsonPropertyName("message")] public string Message { get; } = message;

    [JsonPropertyName("ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ref { get; } = reference;
}

/// <summary>The answer to <c>auth</c>: the connection now lives on the new token, which expires at <c>exp</c> (Unix seconds).</summary>
public sealed class AuthedEvent(long expires, string? reference) : ServerEvent("authed")
{
    [JsonPropertyName("exp")] public long Expires { get; } = expires;

    [JsonPropertyName("ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ref { get; } = reference;
}

/// <summary>Text-format only: the lines of <c>/help</c>.</summary>
public sealed class HelpEvent() : ServerEvent("help")
{
    public static readonly HelpEvent Instance = new();
}
