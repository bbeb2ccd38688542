using ChatHub.Server;
using Microsoft.AspNetCore.Builder;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// The real ChatHub server, in process on 127.0.0.1 with a free port and its own
/// SQLite file, so a restart keeps history and seq the way a deployment would.
/// </summary>
public sealed class ChatServer : IAsyncDisposable
{
    private readonly DirectoryInfo _directory;
    private readonly string[] _extraArgs;
    private WebApplication? _app;

    private ChatServer(DirectoryInfo directory, string[] extraArgs)
    {
        _directory = directory;
        _extraArgs = extraArgs;
    }

    /// <summary>http://127.0.0.1:PORT/ of the running instance.</summary>
    public Uri BaseUri { get; private set; } = null!;

    public string SqlitePath => Path.Combine(_directory.FullName, "chathub.db");

    /// <param name="extraArgs">more configuration, e.g. "--ChatHub:Limits:MessagesPerSecond=1000"</param>
    public static async Task<ChatServer> StartAsync(params string[] extraArgs)
    {
        var server = new ChatServer(Directory.CreateTempSubdirectory("chathub-client-tests-"), extraArgs);
        await server.StartInstanceAsync();
        return server;
    }

    /// <summary>ws://127.0.0.1:PORT/ws?query</summary>
    public Uri WebSocketUri(string query) =>
        new UriBuilder(BaseUri) { Scheme = "ws", Path = "/ws", Query = query }.Uri;

    /// <summary>
    /// Stops this instance (clients see their sockets close) and starts a new one
    /// on the same SQLite file. The new instance gets a new free port.
    /// </summary>
    public async Task RestartAsync()
    {
        await StopInstanceAsync();
        await StartInstanceAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopInstanceAsync();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; it lives in the temp folder.
        }
    }

    private async Task StartInstanceAsync()
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            "--ChatHub:Storage:Provider=Sqlite",
            $"--ChatHub:Storage:SqlitePath={SqlitePath}",
            .. _extraArgs,
        ];
        _app = ChatHubApp.Build(args);
        await _app.StartAsync();
        BaseUri = ChatHubApp.GetBaseAddress(_app);
    }

    private async Task StopInstanceAsync()
    {
        if (_app is null) return;
        WebApplication app = _app;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
