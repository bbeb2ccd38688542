using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary>
/// Tokens on: every upgrade carries a JWT (query or Bearer header), its sub is the name, its rooms claim limits joins,
/// and a live connection renews it with auth or is closed with 4001 after exp plus the grace period.
/// </summary>
public sealed class TokenTests : IDisposable
{
    private readonly TestTokens _tokens = new();

    public void Dispose() => _tokens.Dispose();

    [Theory]
    [InlineData("HS256")]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public async Task A_valid_token_connects_and_its_sub_is_the_name(string algorithm)
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        string token = algorithm switch
        {
            "HS256" => _tokens.Hs256("ann"),
            "RS256" => _tokens.Rs256("ann"),
            _ => _tokens.Es256("ann"),
        };
        await using var ann = await server.ConnectJsonAsync($"token={token}&room=lobby");
        Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
        Assert.Equal(["ann"], (await ann.ExpectAsync("joined"))["members"]!.AsArray().Select(n => (string?)n));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_token_may_come_as_a_bearer_header_on_both_paths(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings($"Connections:AcceptOnTransport={onTransport}"));
        Assert.Equal(101, await RawUpgrade.StatusAsync(server, "format=json", $"Authorization: Bearer {_tokens.Hs256("ann")}"));
        Assert.Equal(401, await RawUpgrade.StatusAsync(server, "format=json", $"Authorization: Bearer {_tokens.Hs256("ann", secret: "another-secret-that-is-at-least-32-bytes")}"));
    }

    [Theory]
    [InlineData("missing", true)]
    [InlineData("missing", false)]
    [InlineData("expired", true)]
    [InlineData("expired", false)]
    [InlineData("forged", true)]
    [InlineData("forged", false)]
    [InlineData("tampered", true)]
    [InlineData("wrong-audience", true)]
    [InlineData("wrong-audience", false)]
    [InlineData("wrong-issuer", true)]
    [InlineData("wrong-issuer", false)]
    [InlineData("garbage", true)]
    [InlineData("bad-sub", true)]
    public async Task A_missing_expired_forged_or_foreign_token_gets_401_and_no_websocket(string kind, bool onTransport)
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings($"Connections:AcceptOnTransport={onTransport}"));
        string? token = kind switch
        {
            "missing" => null,
            "expired" => _tokens.ExpiredHs256("ann"),
            "forged" => _tokens.Hs256("ann", secret: "not-the-servers-secret-but-32-bytes-long"),
            "tampered" => Tamper(_tokens.Hs256("ann")),
            "wrong-audience" => _tokens.Hs256("ann", audience: "some-other-app"),
            "wrong-issuer" => _tokens.Hs256("ann", issuer: "https://evil.example"),
            "garbage" => "not.a.jwt",
            _ => _tokens.Hs256("not a name!"),
        };
        var (status, tcp) = await RawUpgrade.SendAsync(server, token is null ? "format=json" : $"format=json&token={token}");
        using (tcp)
        {
            Assert.Equal(401, status);
        }

        // and the server carries on
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}");
        Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
    }

    [Fact]
    public async Task Name_and_nick_may_not_change_the_tokens_name()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}&name=bob");
        Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
        Assert.Equal("invalid_name", (string?)(await ann.ExpectAsync("error"))["code"]);

        await ann.SendJsonAsync(new { type = "nick", name = "mallory", @ref = "n1" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("invalid_name", (string?)error["code"]);
        Assert.Equal("n1", (string?)error["ref"]);

        await using var text = await server.ConnectTextAsync($"token={_tokens.Hs256("cy")}");
        await text.WaitForLineAsync("welcome cy");
        await text.SendTextAsync("/nick mallory");
        Assert.StartsWith("! invalid_name:", await text.WaitForLineAsync("invalid_name"));
    }

    [Fact]
    public async Task The_rooms_claim_limits_joins_with_forbidden()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann", rooms: ["lobby", "dev"])}&room=lobby&room=secret");
        await ann.ExpectAsync("welcome");
        // The refusal is immediate, the join goes through the room: either may come first.
        var first = new[] { await ann.NextAsync(), await ann.NextAsync() };
        Assert.Contains(first, f => (string?)f["type"] == "joined" && (string?)f["room"] == "lobby");
        Assert.Contains(first, f => (string?)f["type"] == "error" && (string?)f["code"] == "forbidden");

        await ann.SendJsonAsync(new { type = "join", room = "dev" });
        Assert.Equal("dev", (string?)(await ann.ExpectAsync("joined"))["room"]);
        await ann.SendJsonAsync(new { type = "join", room = "ops", @ref = "j" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("forbidden", (string?)error["code"]);
        Assert.Equal("j", (string?)error["ref"]);

        // Without the claim every room is open.
        await using var bob = await server.ConnectJsonAsync($"token={_tokens.Hs256("bob")}&room=ops");
        await bob.ExpectAsync("welcome");
        Assert.Equal("ops", (string?)(await bob.ExpectAsync("joined"))["room"]);
    }

    [Fact]
    public async Task Auth_renews_the_token_of_the_same_user_and_refuses_others()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann", TimeSpan.FromMinutes(5))}");
        await ann.ExpectAsync("welcome");

        var fresh = DateTimeOffset.UtcNow.AddHours(2);
        await ann.SendJsonAsync(new { type = "auth", token = _tokens.Es256("ann", TimeSpan.FromHours(2)), @ref = "a1" });
        var authed = await ann.ExpectAsync("authed");
        Assert.Equal("a1", (string?)authed["ref"]);
        Assert.InRange((long)authed["exp"]!, fresh.ToUnixTimeSeconds() - 60, fresh.ToUnixTimeSeconds() + 60);

        await ann.SendJsonAsync(new { type = "auth", token = _tokens.Hs256("bob"), @ref = "a2" });
        Assert.Equal("invalid_token", (string?)(await ann.ExpectAsync("error"))["code"]);
        await ann.SendJsonAsync(new { type = "auth", token = _tokens.ExpiredHs256("ann") });
        Assert.Equal("invalid_token", (string?)(await ann.ExpectAsync("error"))["code"]);
        await ann.SendJsonAsync(new { type = "auth", token = "forged.token.here" });
        Assert.Equal("invalid_token", (string?)(await ann.ExpectAsync("error"))["code"]);
        await ann.SendJsonAsync(new { type = "auth" });
        Assert.Equal("bad_request", (string?)(await ann.ExpectAsync("error"))["code"]);

        await using var text = await server.ConnectTextAsync($"token={_tokens.Hs256("cy")}");
        await text.WaitForLineAsync("welcome cy");
        await text.SendTextAsync($"/auth {_tokens.Hs256("cy")}");
        Assert.StartsWith("* token renewed", await text.WaitForLineAsync("token renewed"));
    }

    [Fact]
    public async Task Auth_shares_the_connections_message_rate()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings("Limits:MessagesPerSecond=1", "Limits:MessageBurst=1"));
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}");
        await ann.ExpectAsync("welcome");
        string token = _tokens.Hs256("ann");
        for (int i = 0; i < 4; i++)
        {
            await ann.SendJsonAsync(new { type = "auth", token, @ref = $"a{i}" });
        }

        var answers = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var frame = await ann.NextAsync();
            answers.Add((string?)frame["type"] == "authed" ? "authed" : (string)frame["code"]!);
        }

        Assert.Equal("authed", answers[0]);
        Assert.Contains("rate_limited", answers);
    }

    [Fact]
    public async Task Without_tokens_auth_is_a_bad_request()
    {
        await using var server = await TestServer.StartAsync();
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "auth", token = _tokens.Hs256("ann") });
        Assert.Equal("bad_request", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task A_connection_whose_token_expires_without_auth_is_closed_with_4001_and_one_that_renewed_stays()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings("Security:Token:ClockSkew=00:00:00", "Security:Token:ExpiryGrace=00:00:01"));
        // Both tokens expire together, in a few seconds; only ann renews hers.
        var lifetime = TimeSpan.FromSeconds(3);
        await using var ann = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann", lifetime)}");
        await using var bob = await server.ConnectJsonAsync($"token={_tokens.Hs256("bob", lifetime)}");
        await ann.ExpectAsync("welcome");
        await bob.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "auth", token = _tokens.Hs256("ann") });
        await ann.ExpectAsync("authed");

        Assert.Equal((WebSocketCloseStatus)4001, await bob.ReceiveCloseAsync());
        Assert.Equal("token expired", bob.Socket.CloseStatusDescription);

        // The timer that closed bob has seen ann's first token expire too: she is still here.
        await ann.SendJsonAsync(new { type = "ping", @ref = "alive" });
        Assert.Equal("alive", (string?)(await ann.ExpectAsync("pong"))["ref"]);
    }

    [Fact]
    public async Task A_signing_key_shorter_than_32_bytes_stops_the_server_from_starting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("Security:Token:SigningKey=too-short"));
        Assert.Contains("SigningKey", error.Message);
    }

    /// <summary>Changes the payload (sub) but keeps the old signature.</summary>
    private static string Tamper(string token)
    {
        string[] parts = token.Split('.');
        string payload = System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"ann\"", "\"root\"");
        return $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }
}
