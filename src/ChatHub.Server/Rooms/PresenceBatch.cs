using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

/// <summary>
/// The presence changes a room has gathered for its members that take batches, in the order the bus brought
/// them. Touched only by the room's actor. It holds at most <c>Presence:MaxBatchChanges</c> changes: the actor
/// sends the batch as soon as it is that long.
/// </summary>
internal sealed class PresenceBatch
{
    private List<PresenceItem> _changes = [];
    private int _members;

    public int Count => _changes.Count;

    /// <summary>True while a tick is on its way to the actor's mailbox, so a room never has two.</summary>
    public bool TickScheduled { get; set; }

    public void Add(string kind, string name, string? to, int members)
    {
        _changes.Add(new PresenceItem(kind, name, to));
        _members = members;
    }

    /// <summary>The gathered changes as one event; the batch starts empty again.</summary>
    public PresenceBatchEvent Take(string room)
    {
        var batch = new PresenceBatchEvent(room, _changes, _members);
        _changes = [];
        return batch;
    }

    public void Clear() => _changes.Clear();
}
