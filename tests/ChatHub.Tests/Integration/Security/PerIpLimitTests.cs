using System.Net.Sockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary>
/// Per client address: a cap on open WebSockets and a handshake rate, both answered with 429 before any WebSocket
/// exists, on both paths; X-Forwarded-For names the client only when the peer is a configured proxy.
/// </summary>
public sealed class PerIpLimitTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_address_past_its_connection_cap_gets_429_and_the_open_ones_carry_on(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(
            $"Connections:AcceptOnTransport={onTransport}", "Security:PerIp:MaxConnections=2", "Security:PerIp:HandshakesPerSecond=0");
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await using var bob = await server.ConnectJsonAsync("name=bob");
        await ann.ExpectAsync("welcome");
        await bob.ExpectAsync("welcome");

        Assert.Equal(429, await RawUpgrade.StatusAsync(server, "format=json"));
        await ann.SendJsonAsync(new { type = "ping", @ref = "p" });
        Assert.Equal("p", (string?)(await ann.ExpectAsync("pong"))["ref"]);

        // bob leaves; once the server has let him go his place is free again.
        await bob.SendJsonAsync(new { type = "join", room = "r" });
        await ann.SendJsonAsync(new { type = "join", room = "r" });
        await ann.WaitForAsync("joined");
        await bob.SendTextAsync("{\"type\":\"quit\"}");
        await bob.DisposeAsync();
        await ann.WaitForAsync("presence", f => (string?)f["event"] == "leave" && (string?)f["name"] == "bob");
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "format=json"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_address_past_its_handshake_burst_gets_429(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(
            $"Connections:AcceptOnTransport={onTransport}", "Security:PerIp:MaxConnections=0", "Security:PerIp:HandshakesPerSecond=1", "Security:PerIp:HandshakeBurst=3");
        var statuses = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            statuses.Add(await RawUpgrade.StatusAsync(server, "format=json"));
        }

        Assert.Equal([101, 101, 101], statuses.Take(3));
        Assert.Contains(429, statuses.Skip(3));
        Assert.DoesNotContain(statuses, s => s is not (101 or 429));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task X_forwarded_for_from_a_trusted_proxy_names_the_client(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(
            $"Connections:AcceptOnTransport={onTransport}", "Security:PerIp:MaxConnections=1", "Security:PerIp:HandshakesPerSecond=0",
            "Security:Proxy:KnownProxies:0=127.0.0.1");
        var (first, a) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 203.0.113.7");
        var (second, b) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 203.0.113.8");
        var (third, c) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 203.0.113.7");
        using (a)
        using (b)
        using (c)
        {
            Assert.Equal((101, 101, 429), (first, second, third));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task X_forwarded_for_from_anyone_else_is_ignored(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(
            $"Connections:AcceptOnTransport={onTransport}", "Security:PerIp:MaxConnections=1", "Security:PerIp:HandshakesPerSecond=0");
        var (first, a) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 203.0.113.7");
        var (second, b) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 203.0.113.8");
        using (a)
        using (b)
        {
            Assert.Equal((101, 429), (first, second));
        }
    }

    [Fact]
    public async Task Only_as_many_proxies_as_the_forward_limit_are_walked_back()
    {
        // A client behind the trusted proxy may write its own X-Forwarded-For; with ForwardLimit 1 only the entry the
        // proxy appended (the last) counts, so a forged earlier entry cannot dodge the cap.
        await using var server = await TestServer.StartAsync(
            "Security:PerIp:MaxConnections=1", "Security:PerIp:HandshakesPerSecond=0", "Security:Proxy:KnownNetworks:0=127.0.0.0/8");
        var (first, a) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 198.51.100.1, 203.0.113.7");
        var (second, b) = await RawUpgrade.SendAsync(server, "", "X-Forwarded-For: 198.51.100.2, 203.0.113.7");
        using (a)
        using (b)
        {
            Assert.Equal((101, 429), (first, second));
        }
    }

    [Theory]
    [InlineData("Security:PerIp:HandshakeBurst=0", "HandshakeBurst")]
    [InlineData("Security:PerIp:MaxConnections=-1", "MaxConnections")]
    [InlineData("Security:Proxy:KnownProxies:0=not-an-address", "KnownProxies")]
    [InlineData("Security:Proxy:KnownNetworks:0=10.0.0.0/99", "KnownNetworks")]
    public async Task Bad_values_stop_the_server_from_starting_with_the_key_named(string setting, string key)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(setting));
        Assert.Contains(key, error.Message);
    }

}
