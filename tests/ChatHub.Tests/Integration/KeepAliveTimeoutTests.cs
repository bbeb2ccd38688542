using System.Diagnostics;
using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The WebSocket's own keep-alive (<c>WebSocketCreationOptions.KeepAliveTimeout</c>): a ping every interval, and a
/// peer that sends no pong within the timeout is gone. A hand-written client that never answers plays the dead peer;
/// <see cref="ClientWebSocket"/> answers pings by itself and plays the live one.
/// </summary>
public sealed class KeepAliveTimeoutTests
{
    private static readonly string[] Fast = ["Connections:KeepAliveInterval=00:00:01", "Connections:KeepAliveTimeout=00:00:01"];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_peer_that_answers_no_ping_is_dropped_within_interval_plus_timeout_and_leaves_its_rooms(bool onTransport)
    {
        await using var server = await TestServer.StartAsync([.. Fast, $"Connections:AcceptOnTransport={onTransport}"]);
        await using var mate = await server.ConnectJsonAsync("name=mate&room=lobby");
        await mate.ExpectAsync("welcome");
        await mate.ExpectAsync("joined");
        using var silent = await RawWebSocket.ConnectAsync(server.BaseAddress, "format=json&name=silent&room=lobby");
        await mate.WaitForAsync("presence", f => (string?)f["name"] == "silent" && (string?)f["event"] == "join");

        var clock = Stopwatch.StartNew();
        int pings = 0;
        // Reads everything (so nothing backs up) and answers nothing, until the server ends the connection.
        var ended = Task.Run(async () =>
        {
            while (await silent.ReadFrameAsync() is { } frame)
            {
                pings += frame.Opcode == RawWebSocket.Ping ? 1 : 0;
            }
        });

        await mate.WaitForAsync("presence", f => (string?)f["name"] == "silent" && (string?)f["event"] == "leave");
        var left = clock.Elapsed;
        await ended.WaitAsync(WsClient.Timeout);
        Assert.True(pings >= 1, "the server sent no ping");
        // Interval + timeout is 2 s; the runtime checks the timeout on its own timer tick, so allow for that.
        Assert.InRange(left, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_peer_that_answers_pings_stays_connected(bool onTransport)
    {
        await using var server = await TestServer.StartAsync([.. Fast, $"Connections:AcceptOnTransport={onTransport}"]);
        await using var live = await server.ConnectJsonAsync("name=live");
        await live.ExpectAsync("welcome");

        // Several intervals plus timeouts of silence at the chat level; the client's WebSocket answers every ping.
        var receiving = live.ReceiveAsync();
        await Task.Delay(TimeSpan.FromSeconds(6)); // the behaviour under test is a quiet spell
        Assert.False(receiving.IsCompleted, "the server ended a connection that answers its pings");
        await live.SendJsonAsync(new { type = "ping", @ref = "still-here" });
        Assert.Contains("still-here", await receiving);
        Assert.Equal(WebSocketState.Open, live.Socket.State);
    }
}
