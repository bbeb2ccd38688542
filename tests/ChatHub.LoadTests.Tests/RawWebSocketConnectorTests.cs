using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Threading.Channels;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Tests;

/// <summary>The idle ramp's lean connector against the real server: upgrade, frames both ways, and what it refuses.</summary>
[Collection(ServerCollection.Name)]
public sealed class RawWebSocketConnectorTests(ServerFixture server)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Connects_from_a_source_address_joins_and_exchanges_frames_in_order()
    {
        using var connector = new RawWebSocketConnector();
        string room = "raw-" + Guid.NewGuid().ToString("N")[..8];
        var first = new RecordingSink();
        var second = new RecordingSink();
        await using IChatConnection a = await connector.OpenAsync(server.BaseUrl, [room], IPAddress.Parse("127.0.0.5"), Timeout, first, 64, CancellationToken.None);
        Assert.Equal("welcome", (await first.NextAsync()).Type);
        ServerFrame joined = await first.NextAsync();
        Assert.Equal(("joined", room), (joined.Type, joined.Room));

        await using IChatConnection b = await connector.OpenAsync(server.BaseUrl, [room], null, Timeout, second, 64, CancellationToken.None);
        Assert.Equal("welcome", (await second.NextAsync()).Type);
        Assert.Equal("joined", (await second.NextAsync()).Type);

        // A text longer than the first buffer and than a 7-bit length: both directions use the 16-bit length form.
        string[] texts = ["one", new string('x', 300), "three"];
        foreach (string text in texts)
        {
            await b.SayAsync(room, text, CancellationToken.None);
        }
        var received = new List<string?>();
        while (received.Count < texts.Length)
        {
            ServerFrame frame = await first.NextAsync();
            if (frame.Type == "message")
            {
                received.Add(frame.Text);
            }
        }
        Assert.Equal(texts, received);
        Assert.Null(first.Closed);
    }

    [Fact]
    public async Task A_close_from_the_server_reaches_the_sink_with_its_status()
    {
        using var connector = new RawWebSocketConnector();
        var sink = new RecordingSink();
        await using IChatConnection connection = await connector.OpenAsync(server.BaseUrl, ["raw-close"], null, Timeout, sink, 64, CancellationToken.None);
        Assert.Equal("welcome", (await sink.NextAsync()).Type);

        // A frame over the server's frame limit is answered with close code 1009 (protocol.md, close codes).
        await connection.SayAsync("raw-close", new string('x', 1 << 20), CancellationToken.None);
        using var cts = new CancellationTokenSource(Timeout);
        await sink.Done.WaitAsync(cts.Token);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, sink.ClosedStatus);
    }

    [Fact]
    public async Task An_answer_that_is_not_101_fails_the_connect()
    {
        Uri uri = ChatHubUris.Stats(server.BaseUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, uri.Port));
        var ex = await Assert.ThrowsAsync<WebSocketException>(async () => await WebSocketUpgrade.PerformAsync(socket, uri, CancellationToken.None));
        Assert.Equal(WebSocketError.NotAWebSocket, ex.WebSocketErrorCode);
    }

    [Fact]
    public void A_101_whose_accept_does_not_answer_the_key_is_refused()
    {
        // The key and accept pair of RFC 6455 section 1.3.
        const string key = "dGhlIHNhbXBsZSBub25jZQ==";
        WebSocketUpgrade.Check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", key);
        var wrong = Assert.Throws<WebSocketException>(() => WebSocketUpgrade.Check("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=", key));
        Assert.Equal(WebSocketError.HeaderError, wrong.WebSocketErrorCode);
        Assert.Throws<WebSocketException>(() => WebSocketUpgrade.Check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket", key));
        var status = Assert.Throws<WebSocketException>(() => WebSocketUpgrade.Check("HTTP/1.1 429 Too Many Requests", key));
        Assert.Contains("'429'", status.Message);
    }

    private sealed class RecordingSink : IFrameSink
    {
        private readonly Channel<ServerFrame> _frames = Channel.CreateUnbounded<ServerFrame>();

        public string? Closed { get; private set; }

        public WebSocketCloseStatus? ClosedStatus { get; private set; }

        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Done => _closed.Task;

        public void OnFrame(ReadOnlySpan<byte> utf8, long receivedTimestamp) =>
            _frames.Writer.TryWrite(FrameCodec.Parse(utf8) ?? throw new InvalidDataException("not a frame"));

        public void OnServerFrame(ServerFrame frame, long receivedTimestamp) => _frames.Writer.TryWrite(frame);

        public void OnClosed(WebSocketCloseStatus? status, string? reason)
        {
            Closed = $"{status} {reason}";
            ClosedStatus = status;
            _frames.Writer.TryComplete();
            _closed.TrySetResult();
        }

        public async Task<ServerFrame> NextAsync()
        {
            using var cts = new CancellationTokenSource(Timeout);
            return await _frames.Reader.ReadAsync(cts.Token);
        }
    }
}
