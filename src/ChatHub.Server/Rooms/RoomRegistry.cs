using System.Collections.Concurrent;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// The rooms this node holds in memory, by exact name, at most <c>Limits:MaxRooms</c> of them. One of the two
/// shared maps of the server (the other holds names); everything else about a room lives inside its actor. Rooms
/// are loaded on first use, not at start: a room that has history but no members lives only in the store until
/// someone joins it or reads its history, and goes back there when it has been idle a while.
/// </summary>
internal sealed class RoomRegistry(
    IHistoryStore store,
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    TimeProvider clock,
    ILogger<RoomActor> actorLogger)
{
    private readonly ConcurrentDictionary<string, RoomActor> _rooms = new(StringComparer.Ordinal);
    private readonly int _maxRooms = options.Value.Limits.MaxRooms;
    private int _count; // ConcurrentDictionary.Count takes every lock of the map; this is read on every new room
    private long _lastRelief; // timestamp of the last pressure relief (0: the clock started long before)

    /// <summary>
    /// Hands a command to the room's actor. Never waits. <paramref name="load"/>: load the room if it is not in
    /// memory (join, say, history); otherwise a room not in memory answers <see cref="PostResult.NotLoaded"/>.
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
                    Interlocked.Decrement(ref _count);
                    RelievePressure();
                    return PostResult.TooManyRooms;
                }

                var fresh = Create(room);
                if (!_rooms.TryAdd(room, fresh))
                {
                    Interlocked.Decrement(ref _count);
                    continue; // someone else loaded it meanwhile; use theirs
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

    /// <summary>Rooms held in memory, retired ones excluded.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Called by a retiring actor, under its post lock; it is gone from the map when this returns.</summary>
    public void Remove(RoomActor actor)
    {
        if (_rooms.TryRemove(new KeyValuePair<string, RoomActor>(actor.Name, actor)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Asks every room without members that has been idle long enough to unload itself.</summary>
    public void SweepIdle()
    {
        var idleFor = options.Value.Rooms.IdleUnloadAfter;
        foreach (var pair in _rooms)
        {
            if (pair.Value.IdleLongerThan(idleFor))
            {
                pair.Value.TryPost(UnloadIfIdle.AfterIdleTime, bounded: false);
            }
        }
    }

    /// <summary>
    /// At the room limit, rooms without members need not wait out their idle time: every one of them is asked to
    /// unload now, so that a retry of the refused request finds room. At most once a second, off the caller's thread.
    /// </summary>
    private void RelievePressure()
    {
        long last = Volatile.Read(ref _lastRelief);
        if (clock.GetElapsedTime(last) < TimeSpan.FromSeconds(1) || Interlocked.CompareExchange(ref _lastRelief, clock.GetTimestamp(), last) != last)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static self =>
        {
            foreach (var pair in self._rooms)
            {
                if (pair.Value.MemberCount == 0)
                {
                    pair.Value.TryPost(UnloadIfIdle.Now, bounded: false);
                }
            }
        }, this, preferLocal: false);
    }

    /// <summary>
    /// One page of the rooms that exist for the protocol (with members or with kept history), sorted by name,
    /// after <paramref name="after"/>: the store's rooms merged with the rooms in memory, which know the member
    /// counts and include rooms that have members but no history yet.
    /// </summary>
    public async Task<RoomInfo[]> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var page = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var stored = await store.ListRoomsAsync(after, limit, cancellationToken);
        foreach (var room in stored)
        {
            page[room.Room] = _rooms.TryGetValue(room.Room, out var actor) ? actor.MemberCount : 0;
        }

        // A full page from the store ends the page: rooms in memory that sort after its last one cannot be on it.
        string? last = stored.Count == limit ? stored[^1].Room : null;
        foreach (var pair in _rooms)
        {
            var actor = pair.Value;
            int members = actor.MemberCount;
            if ((members > 0 || actor.LastSeq > 0)
                && (after is null || string.CompareOrdinal(actor.Name, after) > 0)
                && (last is null || string.CompareOrdinal(actor.Name, last) < 0))
            {
                page[actor.Name] = members;
            }
        }

        return page.Take(limit).Select(pair => new RoomInfo(pair.Key, pair.Value)).ToArray();
    }

    // TryAdd may lose the race for a name; the losing actor was never started and is simply dropped.
    private RoomActor Create(string name) => new(name, store, this, options.Value, metrics, clock, actorLogger);
}
