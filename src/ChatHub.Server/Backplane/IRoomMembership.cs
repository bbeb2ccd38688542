using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane;

/// <summary>
/// Who is in which room across every node: answers <c>joined.members</c>, <c>who</c>, <c>rooms</c> and
/// <c>/api/rooms</c>, and publishes each change as a <see cref="PresenceChange"/> on the room's bus so it stays in
/// order with the room's messages. A name is one member however many rooms or connections it has.
/// </summary>
internal interface IRoomMembership
{
    /// <summary>Adds the name to the room; the change is published only when the name was not a member yet.</summary>
    Task<MembershipResult> JoinAsync(string room, string name, long connectionId, CancellationToken cancellationToken);

    /// <summary>Removes the name from the room; published only when it was a member.</summary>
    Task<MembershipResult> LeaveAsync(string room, string name, long connectionId, CancellationToken cancellationToken);

    /// <summary>Renames a member; published as one <c>rename</c>.</summary>
    Task<MembershipResult> RenameAsync(string room, string oldName, string newName, long connectionId, CancellationToken cancellationToken);

    /// <summary>The room's members, cluster-wide, unsorted.</summary>
    Task<IReadOnlyList<string>> MembersAsync(string room, CancellationToken cancellationToken);

    /// <summary>
    /// True when every member list this membership hands out is already sorted as <c>joined.members</c> is
    /// (case-insensitive ordinal), so a room need not check its order on each join; false (the default) when a
    /// list may arrive in any order.
    /// </summary>
    bool ListsSorted => false;

    /// <summary>
    /// One page of the rooms that exist (members or kept history) with their member counts, sorted by name
    /// (ordinal), after <paramref name="after"/> (null: from the start), at most <paramref name="limit"/>.
    /// </summary>
    Task<RoomInfo[]> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken);
}

/// <param name="Changed">Whether this call changed the room's members (and so published presence).</param>
/// <param name="Members">Members after the call, unsorted.</param>
internal sealed record MembershipResult(bool Changed, IReadOnlyList<string> Members);
