using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary>
/// The Origin allow-list on both accept paths (transport and HTTP pipeline): a page from a foreign origin gets 403
/// and no WebSocket; programs without Origin connect.
/// </summary>
public sealed class OriginTests
{
    private static readonly string[] Configured =
    [
        "Security:AllowedOrigins:0=https://chat.example.com",
        "Security:AllowedOrigins:1=https://*.example.org",
        "Security:AllowedOrigins:2=http://localhost:5173",
    ];

    [Theory]
    [InlineData(true, "https://chat.example.com", 101)]
    [InlineData(false, "https://chat.example.com", 101)]
    [InlineData(true, "https://CHAT.example.com", 101)]
    [InlineData(true, "https://app.example.org", 101)]
    [InlineData(false, "https://a.b.example.org", 101)]
    [InlineData(true, "http://localhost:5173", 101)]
    [InlineData(true, "https://evil.example", 403)]
    [InlineData(false, "https://evil.example", 403)]
    [InlineData(true, "https://chat.example.com.evil.example", 403)]
    [InlineData(false, "https://chat.example.com.evil.example", 403)]
    [InlineData(true, "https://evilchat.example.com", 403)]
    [InlineData(true, "https://example.org", 403)] // the wildcard needs a subdomain
    [InlineData(true, "https://evilexample.org", 403)]
    [InlineData(true, "http://app.example.org", 403)] // scheme is part of the origin
    [InlineData(true, "https://chat.example.com:8443", 403)] // and so is the port
    [InlineData(true, "http://localhost:5174", 403)]
    [InlineData(true, "null", 403)]
    [InlineData(false, "null", 403)]
    public async Task Configured_origins_match_whole_never_as_substrings(bool onTransport, string origin, int status)
    {
        await using var server = await TestServer.StartAsync([$"Connections:AcceptOnTransport={onTransport}", .. Configured]);
        Assert.Equal(status, await RawUpgrade.StatusAsync(server, "format=json", $"Origin: {origin}"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Clients_without_origin_are_allowed(bool onTransport)
    {
        await using var server = await TestServer.StartAsync([$"Connections:AcceptOnTransport={onTransport}", .. Configured]);
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "format=json"));
        await using var client = await server.ConnectJsonAsync("name=program");
        Assert.Equal("program", await client.ReadWelcomeNameAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task By_default_the_requests_own_host_and_localhost_are_allowed_and_nothing_else(bool onTransport)
    {
        await using var server = await TestServer.StartAsync($"Connections:AcceptOnTransport={onTransport}");
        string self = server.BaseAddress.Authority;
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "", $"Origin: http://{self}"));
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "", "Origin: http://localhost:3000"));
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "", "Origin: https://localhost"));
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", "Origin: https://evil.example"));
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", $"Origin: http://{self}.evil.example"));
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", "Origin: http://localhost.evil.example"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Through_a_proxy_on_another_port_the_origin_is_compared_with_the_host_header(bool onTransport)
    {
        // A page served by a proxy at chat.test:8443 sends Origin https://chat.test:8443 and the proxy passes Host on.
        await using var server = await TestServer.StartAsync($"Connections:AcceptOnTransport={onTransport}");
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "", "Host: chat.test:8443", "Origin: https://chat.test:8443"));
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "", "Host: chat.test", "Origin: https://chat.test"));
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", "Host: chat.test:8443", "Origin: https://chat.test:9443"));
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", "Host: chat.test:8443", "Origin: https://other.test:8443"));
    }

    [Fact]
    public async Task A_refused_origin_disturbs_no_open_connection()
    {
        await using var server = await TestServer.StartAsync(Configured);
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        Assert.Equal(403, await RawUpgrade.StatusAsync(server, "", "Origin: https://evil.example"));
        await ann.SendJsonAsync(new { type = "ping", @ref = "still-here" });
        Assert.Equal("still-here", (string?)(await ann.ExpectAsync("pong"))["ref"]);
    }

    [Fact]
    public async Task A_malformed_allowed_origin_stops_the_server_from_starting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("Security:AllowedOrigins:0=chat.example.com/path"));
        Assert.Contains("AllowedOrigins", error.Message);
    }
}
