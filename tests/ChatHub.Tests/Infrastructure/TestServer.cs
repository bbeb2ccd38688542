using ChatHub.Server;
using Microsoft.AspNetCore.Builder;

namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// A real ChatHub server on 127.0.0.1 with an OS-chosen port, built exactly as Program builds it.
/// Settings are passed as command-line arguments, the same way an operator would.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private WebApplication? _app;

    private TestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public WebApplication App => _app ?? throw new ObjectDisposedException(nameof(TestServer));

    /// <summary>Starts a server. Default: in-memory store, quiet logs; <paramref name="settings"/> are ChatHub keys, e.g. <c>Limits:OutboxCapacity=8</c>.</summary>
    public static async Task<TestServer> StartAsync(params string[] settings)
    {
        var args = new List<string> { "--urls=http://127.0.0.1:0", "--Serilog:MinimumLevel:Default=Warning" };
        if (!settings.Any(s => s.StartsWith("Storage:Provider", StringComparison.Ordinal)))
        {
            args.Add("--ChatHub:Storage:Provider=Memory");
        }

        // Tests open many connections from 127.0.0.1 in quick succession; per-address limits are tested on their own.
        if (!settings.Any(s => s.StartsWith("Security:PerIp:", StringComparison.Ordinal)))
        {
            args.Add("--ChatHub:Security:PerIp:MaxConnections=0");
            args.Add("--ChatHub:Security:PerIp:HandshakesPerSecond=0");
        }

        // Kestrel's own limits (Kestrel:Limits:…) pass as they are; everything else is a ChatHub key.
        args.AddRange(settings.Select(s => s.StartsWith("Kestrel:", StringComparison.Ordinal) ? "--" + s : "--ChatHub:" + s));
        var app = ChatHubApp.Build(args.ToArray());
        await app.StartAsync();
        return new TestServer(app, ChatHubApp.GetBaseAddress(app));
    }

    /// <summary>A SQLite-backed server on the given file.</summary>
    public static Task<TestServer> StartSqliteAsync(string path, params string[] settings) =>
        StartAsync([.. settings, "Storage:Provider=Sqlite", $"Storage:SqlitePath={path}"]);

    public Uri WebSocketUri(string query = "") =>
        new($"ws://{BaseAddress.Authority}/ws{(query.Length == 0 ? "" : "?" + query)}");

    public Task<WsClient> ConnectJsonAsync(string query = "") =>
        WsClient.ConnectAsync(WebSocketUri(Combine("format=json", query)));

    /// <summary>A JSON client whose query joins a room: connected, its <c>welcome</c> and <c>joined</c> read.</summary>
    public async Task<WsClient> JoinedJsonAsync(string query)
    {
        var client = await ConnectJsonAsync(query);
        await client.ExpectAsync("welcome");
        await client.ExpectAsync("joined");
        return client;
    }

    public Task<WsClient> ConnectTextAsync(string query = "") =>
        WsClient.ConnectAsync(WebSocketUri(query));

    /// <summary>The graceful stop, as on SIGTERM: the host's StopAsync.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            await app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string Combine(string a, string b) => b.Length == 0 ? a : a + "&" + b;
}
