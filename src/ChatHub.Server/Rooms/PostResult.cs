namespace ChatHub.Server.Rooms;

/// <summary>What became of a command handed to <see cref="RoomRegistry.Post"/>.</summary>
internal enum PostResult
{
    Posted,

    /// <summary>The room is not in memory and the command does not load it (it has no members, so nothing to do).</summary>
    NotLoaded,

    /// <summary>Loading the room would exceed <c>Limits:MaxRooms</c>.</summary>
    TooManyRooms,

    /// <summary>The room's mailbox holds <c>Limits:RoomMailboxCapacity</c> requests already.</summary>
    MailboxFull,
}
