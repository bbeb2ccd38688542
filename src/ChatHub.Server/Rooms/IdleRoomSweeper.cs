using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// One shared timer, not one per room: a few times per idle period it asks every room without members whether it
/// has been idle long enough to unload. Idle rooms hold their window of messages in memory; their history stays
/// in the store and they load again on first use.
/// </summary>
internal sealed class IdleRoomSweeper(RoomRegistry rooms, IOptions<ChatHubOptions> options, TimeProvider clock) : IHostedService, IDisposable
{
    private ITimer? _timer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var period = options.Value.Rooms.IdleUnloadAfter / 4;
        _timer = clock.CreateTimer(_ => rooms.SweepIdle(), null, period, period);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
