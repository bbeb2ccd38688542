using ChatHub.Server.Observability;
using ChatHub.Server.Rooms;
using ChatHub.Server.Storage;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Opens the store at start (rooms are not loaded: each loads on first use); at stop, commits everything still queued. Registered
/// before <see cref="ConnectionDrainer"/>, so it stops after it: connections are closed first, then the store drains.
/// </summary>
internal sealed class StoreLifetime(IHistoryStore store, RoomRegistry rooms, ChatMetrics metrics, ServerLifecycle lifecycle) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        metrics.ObserveRooms(() => rooms.Count);
        lifecycle.MarkStarted();
    }

    public Task StopAsync(CancellationToken cancellationToken) => store.DrainAsync(cancellationToken);
}
