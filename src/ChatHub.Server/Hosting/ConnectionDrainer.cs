using ChatHub.Server.Configuration;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Hosting;

/// <summary>
/// The graceful stop (SIGTERM, Ctrl+C, host StopAsync): refuse new connections, send every outbox, close every
/// connection with 1001 and wait for them to end, bounded by the close timeout.
/// </summary>
internal sealed partial class ConnectionDrainer(
    ConnectionRegistry connections,
    ServerLifecycle lifecycle,
    IHostApplicationLifetime applicationLifetime,
    IOptions<ChatHubOptions> options,
    ILogger<ConnectionDrainer> logger) : IHostedService
{
    private CancellationTokenRegistration _onStopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Readiness turns red the moment stopping begins, before any hosted service is asked to stop.
        _onStopping = applicationLifetime.ApplicationStopping.Register(lifecycle.MarkDraining);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lifecycle.MarkDraining();
        int count = connections.Count;
        LogDraining(logger, count);
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

        await _onStopping.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: closing {Count} connections with 1001")]
    private static partial void LogDraining(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Count} connections did not close in time")]
    private static partial void LogDrainTimedOut(ILogger logger, int count);
}
