using ChatHub.Server.Backplane;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

// The messages a RoomActor's mailbox carries. Connections post the requests; the log, the bus and the
// membership's answers come back as the rest, so the actor's state is only ever touched by its own loop.

internal abstract class RoomCommand
{
    /// <summary>Set when posted through <see cref="RoomActor.TryPost"/>: the retirement waits until the actor took it.</summary>
    public bool Queued { get; set; }

    /// <summary>Set when posted: the command counts against the mailbox's capacity until the actor takes it.</summary>
    public bool Bounded { get; set; }
}

internal sealed class JoinRoom : RoomCommand
{
    private ChatConnection? _holding;

    /// <param name="holdSends">
    /// Hold the member's sends (<see cref="ChatConnection.HoldSends"/>) until the room has handled the join, so its
    /// <c>joined</c> leaves in one write with what was queued before; released by <see cref="ReleaseSends"/>.
    /// </param>
    public JoinRoom(ChatConnection member, string name, long? since, bool holdSends = false)
    {
        Member = member;
        Name = name;
        Since = since;
        if (holdSends)
        {
            member.HoldSends();
            _holding = member;
        }
    }

    public ChatConnection Member { get; }

    /// <summary>The member's name when it joined (a nick right behind the join reaches the room as a rename).</summary>
    public string Name { get; }
    public long? Since { get; }

    /// <summary>Releases the hold this join took, if any; once, whoever calls it first.</summary>
    public void ReleaseSends() => Interlocked.Exchange(ref _holding, null)?.ReleaseSends();
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

/// <summary>The log's answer to one of this actor's appends.</summary>
internal sealed class Appended(AppendRequest request, AppendResult result) : RoomCommand
{
    public AppendRequest Request { get; } = request;
    public AppendResult Result { get; } = result;
}

/// <summary>A stored message from the bus (this node's or another's).</summary>
internal sealed class MessageArrived(ChatMessage message) : RoomCommand
{
    public ChatMessage Message { get; } = message;
}

internal sealed class PresenceArrived(PresenceChange change) : RoomCommand
{
    public PresenceChange Change { get; } = change;
}

/// <summary>The membership answered a join (Members) or failed (Members is null).</summary>
internal sealed class JoinCompleted(JoinRoom join, IReadOnlyList<string>? members, bool wasMember) : RoomCommand
{
    public JoinRoom Join { get; } = join;
    public IReadOnlyList<string>? Members { get; } = members;
    public bool WasMember { get; } = wasMember;
}

/// <summary>A membership change this actor started has finished (so the room may retire).</summary>
internal sealed class MembershipSettled : RoomCommand
{
    public static readonly MembershipSettled Instance = new();
}

/// <summary>
/// Messages read from the log to fill a gap after <see cref="After"/> (null: the read failed); the read began when
/// messages up to <see cref="HeldUpTo"/> were known to be stored.
/// </summary>
internal sealed class GapRead(long after, long heldUpTo, IReadOnlyList<ChatMessage>? messages) : RoomCommand
{
    public long After { get; } = after;
    public long HeldUpTo { get; } = heldUpTo;
    public IReadOnlyList<ChatMessage>? Messages { get; } = messages;
}

/// <summary>Read the log after the last delivered seq: the bus may have missed something.</summary>
internal sealed class CatchUp : RoomCommand
{
    public static readonly CatchUp Instance = new();
}

/// <summary>A presence batch's tick has passed: send what it gathered.</summary>
internal sealed class PresenceTick : RoomCommand
{
    public static readonly PresenceTick Instance = new();
}
