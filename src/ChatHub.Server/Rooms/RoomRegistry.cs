using System.Collections.Concurrent;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// The rooms this node holds, by exact name. One of the two shared maps of the server (the other holds names);
/// everything else about a room lives inside its actor.
/// </summary>
internal sealed class RoomRegistry(
    IHistoryStore store,
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    TimeProvider clock,
    ILogger<RoomActor> actorLogger)
{
    private readonly ConcurrentDictionary<string, RoomActor> _rooms = new(StringComparer.Ordinal);

    /// <summary>Rooms with kept history exist before anyone joins them: they are listed and keep their seq.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var room in await store.ListRoomsAsync(cancellationToken))
        {
            _rooms.TryAdd(room.Room, Create(room.Room, room.LastSeq));
        }
    }

    /// <summary>Hands a command to the room's actor, creating the room if needed. Never waits.</summary>
    public void Post(string room, RoomCommand command)
    {
        while (true)
        {
            var actor = _rooms.GetOrAdd(room, static (name, self) => self.Create(name, 0), this);
            if (actor.TryPost(command))
            {
                return;
            }

            // That actor retired between the lookup and the post; the next lookup finds or makes its successor.
        }
    }

    /// <summary>Rooms held in memory, retired ones excluded.</summary>
    public int Count => _rooms.Count;

    /// <summary>Rooms held in memory with members (active) and without (idle), for the rooms gauge.</summary>
    public (long Active, long Idle) CountByState()
    {
        long active = 0, idle = 0;
        foreach (var pair in _rooms)
        {
            if (pair.Value.MemberCount > 0)
            {
                active++;
            }
            else
            {
                idle++;
            }
        }

        return (active, idle);
    }

    public bool TryRemove(RoomActor actor) => _rooms.TryRemove(new KeyValuePair<string, RoomActor>(actor.Name, actor));

    /// <summary>The rooms that exist for the protocol: with members or with kept history, sorted by name.</summary>
    public RoomInfo[] List()
    {
        var rooms = new List<RoomInfo>(_rooms.Count);
        foreach (var actor in _rooms.Values)
        {
            int members = actor.MemberCount;
            if (members > 0 || actor.LastSeq > 0)
            {
                rooms.Add(new RoomInfo(actor.Name, members));
            }
        }

        rooms.Sort(static (a, b) => string.CompareOrdinal(a.Room, b.Room));
        return rooms.ToArray();
    }

    // GetOrAdd may build an actor that loses the race; it is never started and simply dropped.
    private RoomActor Create(string name, long knownLastSeq) =>
        new(name, knownLastSeq, store, this, options.Value, metrics, clock, actorLogger);
}
