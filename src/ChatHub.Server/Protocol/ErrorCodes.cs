namespace ChatHub.Server.Protocol;

/// <summary>The <c>code</c> values of an <c>error</c> frame, exactly as docs/protocol.md lists them.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string UnknownType = "unknown_type";
    public const string InvalidName = "invalid_name";
    public const string NameTaken = "name_taken";
    public const string InvalidRoom = "invalid_room";
    public const string NotInRoom = "not_in_room";
    public const string TooManyRooms = "too_many_rooms";
    public const string TooLarge = "too_large";
    public const string RateLimited = "rate_limited";
    public const string NoSuchUser = "no_such_user";

    /// <summary>The token's rooms claim does not list the room.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>An <c>auth</c> whose token is expired, forged, malformed or for another user.</summary>
    public const string InvalidToken = "invalid_token";

    /// <summary>
    /// The store (SQLite, or Redis in a cluster) could not take the request in time: nothing was stored or sent and
    /// the message has no seq; the client may send it again (same ref).
    /// </summary>
    public const string Unavailable = "unavailable";

    /// <summary>The server is at a bound that is not the client's own (rooms in memory, a room's queue): try again later.</summary>
    public const string ServerBusy = "server_busy";
}
