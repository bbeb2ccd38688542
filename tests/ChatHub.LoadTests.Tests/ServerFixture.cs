using ChatHub.LoadTests.Probes;
using ChatHub.Server;
using Microsoft.AspNetCore.Builder;

namespace ChatHub.LoadTests.Tests;

/// <summary>
/// One real ChatHub server on 127.0.0.1:0 for all smoke tests: in-memory store, a sender may go fast
/// (fan-out, slow-consumer), and an outbox twice the default. The slow-consumer test needs the room to outrun
/// only the stalled member: a room delivers in bursts (a backlog of says, then their deliveries), and with server
/// and clients sharing one process on two cores a pause queues that many frames at once for members that read
/// perfectly well. With 64 and with 512 frames such bursts now and then closed a reading member too.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const int OutboxCapacity = 2048;

    private WebApplication? _app;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    internal ServerTarget Target => new(BaseUrl, Environment.ProcessId);

    internal IReadOnlyList<ServerTarget> Targets => [Target];

    public async Task InitializeAsync()
    {
        _app = ChatHubApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            "--ChatHub:Storage:Provider=Memory",
            "--ChatHub:Limits:MessagesPerSecond=1000000",
            "--ChatHub:Limits:MessageBurst=1000000",
            $"--ChatHub:Limits:OutboxCapacity={OutboxCapacity}",
            // Every scenario connects many clients from 127.0.0.x: no per-address limits (docs/security.md).
            "--ChatHub:Security:PerIp:MaxConnections=0",
            "--ChatHub:Security:PerIp:HandshakesPerSecond=0",
            // The same slack in bytes: the scenarios send texts of up to 4,000 characters.
            $"--ChatHub:Limits:OutboxBytes={OutboxCapacity * 8 * 1024}",
            "--Logging:LogLevel:Default=Warning",
            "--Serilog:MinimumLevel:Default=Warning",
        ]);
        await _app.StartAsync();
        BaseUrl = ChatHubApp.GetBaseAddress(_app);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    // Smoke tests share one server and run one after another: the box has two cores.
    public const string Name = "server";
}
