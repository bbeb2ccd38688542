using System.Collections.Concurrent;
using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// The room actors this node runs, by exact name: one per room with local members (or a request in flight), at
/// most <c>Limits:MaxRooms</c> of them. Rooms load on first use, not at start, and leave memory when they have no
/// local member; their history stays in the log.
/// Which rooms exist, and who is in them, is the <see cref="IRoomMembership"/>'s to say, not this map's.
/// </summary>
internal sealed class RoomRegistry
{
    private readonly ConcurrentDictionary<string, RoomActor> _rooms = new(StringComparer.Ordinal);
    private readonly RoomServices _services;
    private readonly int _maxRooms;
    private int _count; // ConcurrentDictionary.Count takes every lock of the map; this is read on every new room

    public RoomRegistry(
        IRoomLog log,
        IRoomBus bus,
        IRoomMembership membership,
        NodeIdentity node,
        IOptions<ChatHubOptions> options,
        ChatMetrics metrics,
        TimeProvider clock,
        ILogger<RoomActor> actorLogger)
    {
        _services = new RoomServices(log, bus, membership, this, node, options.Value, metrics, clock, actorLogger);
        _maxRooms = options.Value.Limits.MaxRooms;
    }

    /// <summary>
    /// Hands a command to the room's actor. Never waits. <paramref name="load"/>: start the room's actor if this
    /// node has none (join, say, history); otherwise a room without an actor answers <see cref="PostResult.NotLoaded"/>.
    /// <paramref name="bounded"/>: the command counts against the room's mailbox capacity (client requests that can
    /// be refused); leaves and renames cannot be refused without leaving a room's state wrong, and are bounded by
    /// the memberships they belong to.
    /// </summary>
    public PostResult Post(string room, RoomCommand command, bool load = true, bool bounded = true)
    {
        while (true)
        {
            if (!_rooms.TryGetValue(room, out var actor))
            {
                if (!load)
                {
                    return PostResult.NotLoaded;
                }

                if (Interlocked.Increment(ref _count) > _maxRooms)
                {
                    // No relief to ask for: an actor leaves memory as soon as it has no local member, so every
                    // room counted here has members (or a request in flight).
                    Interlocked.Decrement(ref _count);
                    return PostResult.TooManyRooms;
                }

                var fresh = new RoomActor(room, _services);
                if (!_rooms.TryAdd(room, fresh))
                {
                    Interlocked.Decrement(ref _count);
                    continue; // someone else started it meanwhile; use theirs
                }

                actor = fresh;
            }

            var result = actor.TryPost(command, bounded);
            if (result != PostResult.NotLoaded)
            {
                return result;
            }

            // That actor retired between the lookup and the post; the next lookup finds or makes its successor.
        }
    }

    /// <summary>Room actors running on this node, retired ones excluded.</summary>
    public int Count => Volatile.Read(ref _count);

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

    /// <summary>The running actors (for the bus's resume).</summary>
    public IEnumerable<RoomActor> Actors => _rooms.Values;

    /// <summary>Called by a retiring actor, under its post lock; it is gone from the map when this returns.</summary>
    public void Remove(RoomActor actor)
    {
        if (_rooms.TryRemove(new KeyValuePair<string, RoomActor>(actor.Name, actor)))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
