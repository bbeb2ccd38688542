using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Format by query parameter or subprotocol; the query wins; the picked subprotocol is echoed.</summary>
public sealed class FormatSelectionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_json_subprotocol_picks_json_and_is_echoed()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri(), "chathub.json");
        Assert.Equal("chathub.json", client.Socket.SubProtocol);
        await client.ExpectAsync("welcome");
    }

    [Fact]
    public async Task The_text_subprotocol_picks_text_and_is_echoed()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("name=tim"), "chathub.text");
        Assert.Equal("chathub.text", client.Socket.SubProtocol);
        Assert.StartsWith("* welcome tim", await client.ReceiveAsync());
    }

    [Fact]
    public async Task The_query_wins_over_the_subprotocol()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("format=text&name=q"), "chathub.json", "chathub.text");
        Assert.Equal("chathub.text", client.Socket.SubProtocol);
        Assert.StartsWith("* welcome q", await client.ReceiveAsync());
    }

    [Fact]
    public async Task An_unknown_format_is_refused_before_the_upgrade()
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_server.BaseAddress, "/ws?format=xml"));
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_plain_get_on_the_websocket_path_is_426()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_server.BaseAddress, "/ws"));
        Assert.Equal(System.Net.HttpStatusCode.UpgradeRequired, response.StatusCode);
    }
}
