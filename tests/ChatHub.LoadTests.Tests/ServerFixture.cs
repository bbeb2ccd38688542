using ChatHub.LoadTests.Probes;
using ChatHub.Server;
using Microsoft.AspNetCore.Builder;

namespace ChatHub.LoadTests.Tests;

/// <summary>
/// One real ChatHub server on 127.0.0.1:0 for all smoke tests: in-memory store, a sender may go fast
/// (fan-out, slow-consumer), and a small outbox so the slow-consumer test reaches 1013 within a second.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const int OutboxCapacity = 64;

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
