using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

// The messages a RoomActor's mailbox carries. Connections post them; the store posts Stored.

internal abstract class RoomCommand
{
    /// <summary>Set when posted: the command counts against the mailbox's capacity until the actor takes it.</summary>
    public bool Bounded { get; set; }
}

internal sealed class JoinRoom(ChatConnection member, string name, long? since) : RoomCommand
{
    public ChatConnection Member { get; } = member;

    /// <summary>The member's name when it joined (a nick right behind the join reaches the room as a rename).</summary>
    public string Name { get; } = name;

    public long? Since { get; } = since;
}

internal sealed class LeaveRoom(ChatConnection member, bool reply) : RoomCommand
{
    public ChatConnection Member { get; } = member;

    /// <summary>False when the connection is gone: nobody is there to read <c>left</c>.</summary>
    public bool Reply { get; } = reply;
}

internal sealed class SayInRoom(ChatConnection sender, string name, string text, string? reference) : RoomCommand
{
    public ChatConnection Sender { get; } = sender;

    /// <summary>
    /// The sender's name when it said this. The room runs later, and a <c>nick</c> right behind the <c>say</c>
    /// may have changed the connection's name by then; the message and its ref belong to the name it was said under.
    /// </summary>
    public string Name { get; } = name;

    public string Text { get; } = text;
    public string? Ref { get; } = reference;
}

internal sealed class RenameInRoom(ChatConnection member, string oldName, string newName) : RoomCommand
{
    public ChatConnection Member { get; } = member;
    public string OldName { get; } = oldName;
    public string NewName { get; } = newName;
}

internal sealed class WhoInRoom(ChatConnection asker, string? reference) : RoomCommand
{
    public ChatConnection Asker { get; } = asker;
    public string? Ref { get; } = reference;
}

internal sealed class HistoryOfRoom(ChatConnection asker, long? before, int limit) : RoomCommand
{
    public ChatConnection Asker { get; } = asker;
    public long? Before { get; } = before;
    public int Limit { get; } = limit;
}

internal sealed class MessageStored(ChatMessage message) : RoomCommand
{
    public ChatMessage Message { get; } = message;
}

/// <summary>The store could not take the message: its sender gets <c>unavailable</c> and the seq is handed out again.</summary>
internal sealed class MessageFailed(ChatMessage message) : RoomCommand
{
    public ChatMessage Message { get; } = message;
}

/// <summary>
/// From the idle sweep: unload if the room is still without members and has been idle long enough, or, under
/// pressure (<see cref="Now"/>), as soon as it has no members. Carries nothing but that, so two shared instances.
/// </summary>
internal sealed class UnloadIfIdle : RoomCommand
{
    public static readonly UnloadIfIdle AfterIdleTime = new(evenIfRecent: false);
    public static readonly UnloadIfIdle Now = new(evenIfRecent: true);

    private UnloadIfIdle(bool evenIfRecent) => EvenIfRecent = evenIfRecent;

    public bool EvenIfRecent { get; }
}
