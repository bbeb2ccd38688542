using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The graceful stop that SIGTERM triggers (the host's StopAsync): queued frames are sent, every connection is
/// closed with 1001, and every acked message is in the store for the next start.
/// </summary>
public sealed class ShutdownTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Stop_flushes_outboxes_closes_with_1001_and_keeps_what_was_acked()
    {
        string db = _dir.File("stop.db");
        var server = await TestServer.StartSqliteAsync(db, "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000");
        var ann = await server.ConnectJsonAsync("name=ann&room=last");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        var bob = await server.ConnectJsonAsync("name=bob&room=last");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        const int count = 200;
        for (int i = 1; i <= count; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "last", text = $"m{i}", @ref = $"r{i}" });
        }

        await ann.WaitForAsync("ack", a => (string?)a["ref"] == $"r{count}");
        var bobReads = Task.Run(async () =>
        {
            var seqs = new List<long>();
            while (await bob.ReceiveAsync() is { } frame)
            {
                if (frame.Contains("\"type\":\"message\""))
                {
                    seqs.Add(System.Text.Json.JsonDocument.Parse(frame).RootElement.GetProperty("seq").GetInt64());
                }
            }

            return seqs;
        });

        await server.StopAsync();

        // Everything queued for bob reached him before the close, and the close said "going away".
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), await bobReads);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, bob.CloseStatus);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ann.ReceiveCloseAsync());
        await server.DisposeAsync();
        await ann.DisposeAsync();
        await bob.DisposeAsync();

        await using var restarted = await TestServer.StartSqliteAsync(db);
        await using var carl = await restarted.ConnectJsonAsync($"room=last");
        await carl.ExpectAsync("welcome");
        await carl.SendJsonAsync(new { type = "history", room = "last", limit = 1 });
        Assert.Equal(count, (long)(await carl.WaitForAsync("history"))["messages"]![0]!["seq"]!);
    }

    [Fact]
    public async Task Readiness_is_200_while_serving()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task While_draining_readiness_is_503_and_new_upgrades_are_refused()
    {
        await using var server = await TestServer.StartAsync("Connections:CloseTimeout=00:00:30");
        // A client that will not answer the close keeps the drain going long enough to look at the server.
        var stubborn = await server.ConnectJsonAsync();
        stubborn.AnswersClose = false;
        await stubborn.ExpectAsync("welcome");
        var stop = server.StopAsync();

        // The 1001 has arrived and this client does not answer it: the server is mid-drain and still listening.
        Assert.Null(await stubborn.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, stubborn.CloseStatus);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
        await Assert.ThrowsAnyAsync<WebSocketException>(() => server.ConnectJsonAsync());

        await stubborn.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stop;
        await stubborn.DisposeAsync();
    }
}
