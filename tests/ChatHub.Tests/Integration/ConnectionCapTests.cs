using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Past the connection cap new connections are refused and the ones held keep working.</summary>
public sealed class ConnectionCapTests
{
    [Fact]
    public async Task Connections_past_the_cap_are_refused_and_the_others_carry_on()
    {
        await using var server = await TestServer.StartAsync("Limits:MaxConnections=3");
        var held = new List<WsClient>();
        for (int i = 0; i < 3; i++)
        {
            var client = await server.ConnectJsonAsync($"name=c{i}&room=capped");
            await client.ExpectAsync("welcome");
            await client.ExpectAsync("joined");
            held.Add(client);
        }

        await Assert.ThrowsAnyAsync<WebSocketException>(() => server.ConnectJsonAsync("name=late"));

        await held[0].SendJsonAsync(new { type = "say", room = "capped", text = "still here" });
        foreach (var client in held)
        {
            Assert.Equal("still here", (string?)(await client.WaitForAsync("message"))["text"]);
            await client.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(0, 128, 20_000L, 16, 19_856)]
    [InlineData(0, 128, 20_000L, 220, 19_652)]
    [InlineData(0, 256, null, 16, int.MaxValue)]
    [InlineData(500, 256, 20_000L, 16, 500)]
    [InlineData(0, 256, 100L, 16, 1)]
    public void The_default_cap_is_the_open_files_limit_less_what_is_open_at_start_less_the_reserve(
        int configured, int reserve, long? openFiles, int openAtStart, int expected) =>
        Assert.Equal(expected, ChatHub.Server.Hosting.OpenFileLimit.ConnectionCap(configured, reserve, openFiles, openAtStart));
}
