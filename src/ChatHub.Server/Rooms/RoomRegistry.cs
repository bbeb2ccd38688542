using System.Collections.Concurrent;
using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// The room actors this node runs, by exact name: one per room with local members (or a request in flight).
/// Which rooms exist, and who is in them, is the <see cref="IRoomMembership"/>'s to say, not this map's.
/// </summary>
internal sealed class RoomRegistry
{
    private readonly ConcurrentDictionary<string, RoomActor> _rooms = new(StringComparer.Ordinal);
    private readonly RoomServices _services;

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
    }

    /// <summary>Hands a command to the room's actor, creating the room if needed. Never waits.</summary>
    public void Post(string room, RoomCommand command)
    {
        while (true)
        {
            var actor = _rooms.GetOrAdd(room, static (name, services) => new RoomActor(name, services), _services);
            if (actor.TryPost(command))
            {
                return;
            }

            // That actor retired between the lookup and the post; the next lookup finds or makes its successor.
        }
    }

    /// <summary>Room actors running on this node.</summary>
    public int Count => _rooms.Count;

    /// <summary>The running actors (for the bus's resume).</summary>
    public IEnumerable<RoomActor> Actors => _rooms.Values;

    public bool TryRemove(RoomActor actor) => _rooms.TryRemove(new KeyValuePair<string, RoomActor>(actor.Name, actor));
}
