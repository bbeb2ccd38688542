using ChatHub.Server.Backplane;
using ChatHub.Server.Observability;
using ChatHub.Server.Rooms;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Opens the room log (and through it the store; rooms are not loaded: each loads on first use) at start; at
/// stop, commits everything still queued. Registered
/// before <see cref="ConnectionDrainer"/>, so it stops after it: connections are closed first, then the store drains.
/// </summary>
internal sealed class StoreLifetime(IRoomLog store, RoomRegistry rooms, ChatMetrics metrics, ServerLifecycle lifecycle) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        metrics.ObserveRooms(() => rooms.Count, rooms.CountByState);
        lifecycle.MarkStarted();
    }

    public Task StopAsync(CancellationToken cancellationToken) => store.DrainAsync(cancellationToken);
}
