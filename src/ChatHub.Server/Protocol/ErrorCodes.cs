namespace ChatHub.Server.Protocol;

/// <summary>The <c>code</c> values of an <c>error</c> frame: PROTOCOL.md's, and <c>unavailable</c> (cluster mode).</summary>
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

    /// <summary>The shared store (Redis) did not answer in time: nothing was stored or sent; the client may retry.</summary>
    public const string Unavailable = "unavailable";
}
