namespace ChatHub.Server.Security;

/// <summary>
/// Who a token says the user is: the name (<c>sub</c>), the rooms it may join (null: every room) and when the
/// token expires. One small object per token-holding connection, replaced by each <c>auth</c>.
/// </summary>
internal sealed record UserIdentity(string Name, IReadOnlySet<string>? Rooms, DateTimeOffset Expires)
{
    public bool MayJoin(string room) => Rooms is null || Rooms.Contains(room);
}
