using System.Net.WebSockets;
using ChatHub.Tests.Deployment;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The real server process, stopped by a real SIGTERM, as a container runtime would stop it.</summary>
public sealed class ProcessSignalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Sigterm_closes_connections_with_1001_keeps_acked_messages_and_exits_cleanly()
    {
        string db = _dir.File("signal.db");
        using (var server = await StartAsync(db))
        {
            await using var ann = await WsClient.ConnectAsync(WebSocketUri(server, "format=json&name=ann&room=sig"));
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await ann.SendJsonAsync(new { type = "say", room = "sig", text = "before the signal", @ref = "s1" });
            Assert.Equal(1, (long)(await ann.WaitForAsync("ack"))["seq"]!);

            server.SendSigterm();
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ann.ReceiveCloseAsync());
            Assert.Equal(0, await server.WaitForExitAsync());
        }

        using (var server = await StartAsync(db))
        {
            await using var bob = await WsClient.ConnectAsync(WebSocketUri(server, "format=json&name=bob&room=sig"));
            await bob.ExpectAsync("welcome");
            var history = (await bob.ExpectAsync("joined"))["history"]!.AsArray();
            Assert.Equal("before the signal", (string?)Assert.Single(history)!["text"]);
            server.SendSigterm();
            Assert.Equal(0, await server.WaitForExitAsync());
        }
    }

    [Fact]
    public async Task With_the_json_log_format_every_console_line_is_a_compact_json_event()
    {
        using var server = await StartAsync(_dir.File("json.db"), "--ChatHub:Logging:Format", "json");
        Assert.NotEmpty(server.StartupOutput);
        foreach (string line in server.StartupOutput)
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("@t", out _), line);
            Assert.True(json.RootElement.TryGetProperty("@m", out _), line);
        }

        server.SendSigterm();
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    /// <summary>The server's DLL under <c>dotnet</c> on an OS-chosen port with its SQLite file at <paramref name="db"/>.</summary>
    private static Task<ServerProcess> StartAsync(string db, params string[] extraArguments) =>
        ServerProcess.StartAsync([ServerProcess.ServerDll, "--urls", "http://127.0.0.1:0", "--ChatHub:Storage:SqlitePath", db, .. extraArguments]);

    private static Uri WebSocketUri(ServerProcess server, string query) =>
        new($"ws://{new Uri(server.ListeningOn[0]).Authority}/ws?{query}");
}
