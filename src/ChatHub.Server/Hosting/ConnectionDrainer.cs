using ChatHub.Server.Configuration;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Hosting;

/// <summary>
/// The graceful stop (SIGTERM, Ctrl+C, host StopAsync): refuse new connections, send every outbox, close every
/// connection with 1001 and wait for them to end, bounded by the close timeout.
///
/// It runs in <see cref="StoppingAsync"/>, which the host calls before any hosted service's StopAsync — that is,
/// while Kestrel still listens — so readiness can answer 503 and late upgrades get a clear 503 during the drain,
/// and Kestrel's own stop then finds no WebSocket left to wait for.
/// </summary>
internal sealed partial class ConnectionDrainer(
    ConnectionRegistry connections,
    ServerLifecycle lifecycle,
    IOptions<ChatHubOptions> options,
    ILogger<ConnectionDrainer> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        lifecycle.MarkDraining();
        LogDraining(logger, connections.Count);
        foreach (var connection in connections.All)
        {
            connection.BeginClose(CloseCodes.ShuttingDown, "server shutting down");
        }

        // Each connection aborts itself after the close timeout; a little slack covers the loops winding down.
        var deadline = options.Value.Connections.CloseTimeout + TimeSpan.FromSeconds(1);
        try
        {
            await connections.WhenEmpty().WaitAsync(deadline, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            LogDrainTimedOut(logger, connections.Count);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: closing {Count} connections with 1001")]
    private static partial void LogDraining(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Count} connections did not close in time")]
    private static partial void LogDrainTimedOut(ILogger logger, int count);
}
