using System.Diagnostics;
using ChatHub.Server.Protocol;
using ChatHub.Server.Rooms;
using ChatHub.Server.Backplane;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace ChatHub.Server.Observability;

/// <summary>The HTTP endpoints beside the WebSocket: health, readiness, stats and the room list.</summary>
internal static class HttpEndpoints
{
    public static void MapChatHubHttp(this WebApplication app)
    {
        // Liveness runs no check at all: 200 while the process can answer.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadinessCheck.Tag) });

        app.MapGet("/api/stats", (ChatMetrics metrics) =>
        {
            using var process = Process.GetCurrentProcess();
            return TypedResults.Json(
                new StatsSnapshot(
                    metrics.Connections,
                    metrics.Rooms,
                    metrics.MessagesIn,
                    metrics.MessagesOut,
                    process.WorkingSet64,
                    GC.GetTotalMemory(false),
                    Math.Round(metrics.Uptime.TotalSeconds, 3)),
                ChatJsonContext.Default.StatsSnapshot);
        });

        // Paged like the rooms request: ?after=ROOM&limit=N (at most Limits:RoomListPageSize, also the default).
        app.MapGet("/api/rooms", async Task<IResult> (RoomList list, string? after, int? limit, CancellationToken cancellationToken) =>
        {
            if (list.Check(after, limit) is { } problem)
            {
                return TypedResults.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
            }

            return await list.TryReadAsync(after, limit, cancellationToken) is { } page
                ? TypedResults.Json(page, ChatJsonContext.Default.RoomInfoArray)
                : TypedResults.Problem("too many room lists are being read; try again", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }
}
