namespace ChatHub.Server.Protocol;

/// <summary>Maps the JSON <c>type</c> field to a <see cref="RequestKind"/> without allocating.</summary>
public static class RequestKinds
{
    public static RequestKind FromJsonType(string type) => type switch
    {
        "nick" => RequestKind.Nick,
        "join" => RequestKind.Join,
        "leave" => RequestKind.Leave,
        "say" => RequestKind.Say,
        "dm" => RequestKind.Dm,
        "who" => RequestKind.Who,
        "rooms" => RequestKind.Rooms,
        "history" => RequestKind.History,
        "ping" => RequestKind.Ping,
        "auth" => RequestKind.Auth,
        _ => RequestKind.Unknown,
    };
}
