using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Every close code of the protocol, each where it says — and the server carries on for everyone else.</summary>
public sealed class CloseCodeTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Limits:MaxFrameBytes=4096", "Limits:MaxTextBytes=1024");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Quit_in_text_format_closes_with_1000()
    {
        await using var ann = await _server.ConnectTextAsync("name=ann");
        await ann.WaitForLineAsync("welcome");
        await ann.SendTextAsync("/quit");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ann.ReceiveCloseAsync());
    }

    [Fact]
    public async Task A_normal_close_from_the_client_is_answered_with_1000()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        await ann.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
        Assert.Equal(WebSocketState.Closed, ann.Socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ann.CloseStatus);
    }

    [Fact]
    public async Task A_binary_frame_closes_with_1003()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendRawAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await ann.ReceiveCloseAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task Invalid_utf8_closes_with_1007()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendRawAsync([0x7B, 0xC3, 0x28, 0x7D], WebSocketMessageType.Text); // "{" + broken 2-byte sequence + "}"
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await ann.ReceiveCloseAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_frame_over_the_frame_limit_closes_with_1009()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendTextAsync("{\"type\":\"ping\",\"ref\":\"" + new string('x', 5000) + "\"}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ann.ReceiveCloseAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_frame_within_the_limit_with_text_over_the_text_limit_is_only_an_error()
    {
        await using var ann = await _server.ConnectJsonAsync("room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = new string('x', 2000) });
        Assert.Equal("too_large", (string?)(await ann.ExpectAsync("error"))["code"]);
        Assert.Equal(WebSocketState.Open, ann.Socket.State);
    }

    private async Task AssertServerStillServesAsync()
    {
        await using var other = await _server.ConnectJsonAsync();
        await other.ExpectAsync("welcome");
        await other.SendJsonAsync(new { type = "ping", @ref = "ok" });
        Assert.Equal("ok", (string?)(await other.ExpectAsync("pong"))["ref"]);
    }
}
