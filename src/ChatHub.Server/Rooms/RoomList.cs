using System.Threading.RateLimiting;
using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Rooms;

/// <summary>
/// Pages of the room list for the <c>rooms</c> request and <c>GET /api/rooms</c>. Each page reads the store, so
/// only a few are read at once and a few more may wait; past that a request is refused rather than queued.
/// </summary>
internal sealed class RoomList(IRoomMembership membership, IOptions<ChatHubOptions> options) : IDisposable
{
    private readonly ConcurrencyLimiter _limiter = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = 4,
        QueueLimit = 64,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>The default and the largest <c>limit</c> of a page.</summary>
    public int PageSize { get; } = options.Value.Limits.RoomListPageSize;

    /// <summary>Why the paging arguments are wrong, or null when they are fine.</summary>
    public string? Check(string? after, int? limit) =>
        after is not null && !Identifiers.IsValidRoom(after) ? "after must be a room name"
        : limit is { } l && (l < 1 || l > PageSize) ? $"limit must be 1 to {PageSize}"
        : null;

    /// <summary>One page of rooms sorted by name after <paramref name="after"/>; null when too many pages are being read.</summary>
    public async Task<RoomInfo[]?> TryReadAsync(string? after, int? limit, CancellationToken cancellationToken)
    {
        using var lease = await _limiter.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired ? await membership.ListRoomsAsync(after, limit ?? PageSize, cancellationToken) : null;
    }

    public void Dispose() => _limiter.Dispose();
}
