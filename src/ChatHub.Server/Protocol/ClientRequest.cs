using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

/// <summary>What a client asks for, in either format. The JSON codec binds it directly; the text codec builds it.</summary>
public sealed class ClientRequest
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("room")] public string? Room { get; set; }
    [JsonPropertyName("since")] public long? Since { get; set; }
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("ref")] public string? Ref { get; set; }
    [JsonPropertyName("to")] public string? To { get; set; }
    [JsonPropertyName("before")] public long? Before { get; set; }
    [JsonPropertyName("limit")] public int? Limit { get; set; }
    [JsonPropertyName("token")] public string? Token { get; set; }

    /// <summary><c>rooms</c>: list only rooms whose names sort after this one (the last room of the previous page).</summary>
    [JsonPropertyName("after")] public string? After { get; set; }

    /// <summary>Set by the codecs, never read from the wire.</summary>
    [JsonIgnore] public RequestKind Kind { get; set; }

    /// <summary>For text-format replies that need the command's own wording (e.g. an unknown slash command).</summary>
    [JsonIgnore] public string? TextCommand { get; set; }
}

public enum RequestKind
{
    Unknown,
    Nick,
    Join,
    Leave,
    Say,
    Dm,
    Who,
    Rooms,
    History,
    Ping,
    Help,
    Quit,
    Auth,
}
