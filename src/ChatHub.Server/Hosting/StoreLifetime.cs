using ChatHub.Server.Observability;
using ChatHub.Server.Rooms;
using ChatHub.Server.Storage;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Opens the store and loads the room list at start; at stop, commits everything still queued. Registered
/// before <see cref="ConnectionDrainer"/>, so it stops after it: connections are closed first, then the store drains.
/// </summary>
internal sealed class StoreLifetime(IHistoryStore store, RoomRegistry rooms, ChatMetrics metrics, ServerLifecycle lifecycle) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        await rooms.LoadAsync(cancellationToken);
        metrics.ObserveRooms(() => rooms.Count, rooms.CountByState);
        lifecycle.MarkStarted();
    }

    public Task StopAsync(CancellationToken cancellationToken) => store.DrainAsync(cancellationToken);
}
