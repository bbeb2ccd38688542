using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The per-connection token bucket: rate_limited drops, and 1008 for a client that ignores them.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task The_default_limits_are_announced_in_the_welcome()
    {
        await using var server = await TestServer.StartAsync();
        await using var ann = await server.ConnectJsonAsync();
        var limits = (await ann.ExpectAsync("welcome"))["limits"]!;
        Assert.Equal(4096, (int)limits["maxMessageBytes"]!);
        Assert.Equal(50, (int)limits["maxRooms"]!);
        Assert.Equal(20, (int)limits["ratePerSecond"]!);
    }

    [Fact]
    public async Task Messages_past_the_burst_are_dropped_with_rate_limited()
    {
        // One token a second and a burst of 5: a quick run of 8 has 5 through and at least 2 dropped.
        await using var server = await TestServer.StartAsync("Limits:MessagesPerSecond=1", "Limits:MessageBurst=5");
        await using var ann = await server.ConnectJsonAsync("room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        for (int i = 0; i < 8; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "lobby", text = $"m{i}", @ref = $"r{i}" });
        }

        int acked = 0, limited = 0;
        while (acked + limited < 8)
        {
            var frame = await ann.NextAsync();
            switch ((string?)frame["type"])
            {
                case "ack": acked++; break;
                case "error":
                    Assert.Equal("rate_limited", (string?)frame["code"]);
                    Assert.StartsWith("r", (string?)frame["ref"]);
                    limited++;
                    break;
            }
        }

        Assert.InRange(acked, 5, 6);
        Assert.Equal(8 - acked, limited);
        Assert.Equal(WebSocketState.Open, ann.Socket.State);
    }

    [Fact]
    public async Task A_client_that_keeps_flooding_is_closed_with_1008()
    {
        await using var server = await TestServer.StartAsync("Limits:MessagesPerSecond=1", "Limits:MessageBurst=2", "Limits:AbuseDropThreshold=20");
        await using var flood = await server.ConnectJsonAsync("room=lobby");
        await flood.ExpectAsync("welcome");
        await flood.ExpectAsync("joined");

        var reading = flood.ReceiveCloseAsync();
        for (int i = 0; i < 200 && !reading.IsCompleted; i++)
        {
            try
            {
                await flood.SendJsonAsync(new { type = "say", room = "lobby", text = "spam" });
            }
            catch (WebSocketException)
            {
                break; // closed under our feet: what we want
            }
        }

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await reading);
    }
}
