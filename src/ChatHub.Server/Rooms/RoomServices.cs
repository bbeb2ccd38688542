using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;

namespace ChatHub.Server.Rooms;

/// <summary>What every room actor shares, gathered once so an actor holds one reference, not nine.</summary>
internal sealed class RoomServices(
    IRoomLog log,
    IRoomBus bus,
    IRoomMembership membership,
    RoomRegistry registry,
    NodeIdentity node,
    ChatHubOptions options,
    ChatMetrics metrics,
    TimeProvider clock,
    ILogger logger)
{
    public IRoomLog Log { get; } = log;
    public IRoomBus Bus { get; } = bus;
    public IRoomMembership Membership { get; } = membership;
    public RoomRegistry Registry { get; } = registry;
    public NodeIdentity Node { get; } = node;
    public ChatHubOptions Options { get; } = options;
    public ChatMetrics Metrics { get; } = metrics;
    public TimeProvider Clock { get; } = clock;
    public ILogger Logger { get; } = logger;
}
