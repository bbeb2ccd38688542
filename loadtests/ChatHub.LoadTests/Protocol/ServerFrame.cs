namespace ChatHub.LoadTests.Protocol;

/// <summary>
/// Any frame the server sends in JSON format (docs/protocol.md, "Server to client").
/// One flat shape for every <c>type</c>: the load tool only reads a handful of fields and
/// unknown fields are ignored, so it keeps working against any ChatHub server version.
/// </summary>
internal sealed class ServerFrame
{
    public string? Type { get; set; }
    public string? Name { get; set; }
    public string? Room { get; set; }
    public long? Seq { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
    public string? Text { get; set; }
    public string? Ts { get; set; }
    public string? Code { get; set; }
    public string? Message { get; set; }
    public string? Ref { get; set; }
    public string? Event { get; set; }
    public List<string>? Members { get; set; }
    public List<ServerFrame>? History { get; set; }
    /// <summary><c>presence_batch</c> (asked for with <c>presence=batch</c>): the room's changes of one tick.</summary>
    public List<ServerFrame>? Changes { get; set; }
    public int? MemberCount { get; set; }
}
