namespace ChatHub.Server.Backplane;

/// <summary>
/// Carries a room's stored messages and presence changes to every node that has members in it. On one node it
/// hands them straight back to the room's actor; in a cluster it is Redis pub/sub, which is at-most-once, so
/// the receiving actor checks <c>seq</c> and fills any gap from the <see cref="IRoomLog"/>.
/// </summary>
internal interface IRoomBus
{
    /// <summary>Completes once everything published for the room from now on reaches <paramref name="sink"/>.</summary>
    Task SubscribeAsync(string room, IRoomSink sink, CancellationToken cancellationToken);

    /// <summary>Stops delivering the room to this sink (its actor has no local members left).</summary>
    void Unsubscribe(string room, IRoomSink sink);
}

/// <summary>A room's actor as the bus sees it. Every call comes from the bus's thread and must not block.</summary>
internal interface IRoomSink
{
    void OnMessage(Protocol.ChatMessage message);

    void OnPresence(PresenceChange change);

    /// <summary>The bus lost its link and has it back: whatever was published meanwhile must be read from the log.</summary>
    void OnResumed();

    /// <summary>The last seq the room delivered, so a bus can tell a room that missed the end of a conversation.</summary>
    long LastSeq { get; }
}

/// <summary>One member joining, leaving or renaming, as every node hears it.</summary>
/// <param name="Kind"><c>join</c>, <c>leave</c> or <c>rename</c> (the protocol's words).</param>
/// <param name="To">The new name, for <c>rename</c>.</param>
/// <param name="Node">The node of the connection that caused it, so that node does not tell it itself.</param>
/// <param name="ConnectionId">That connection, on that node.</param>
/// <param name="Members">Members of the room, cluster-wide, after the change.</param>
internal sealed record PresenceChange(string Kind, string Name, string? To, string Node, long ConnectionId, int Members);
