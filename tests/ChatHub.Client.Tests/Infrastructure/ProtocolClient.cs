using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// A plain JSON-format WebSocket client (no Origin header, like any program):
/// the "other person" in browser tests, and the way tests seed history.
/// Every frame it receives is kept, so a test can count what arrived.
/// </summary>
public sealed class ProtocolClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonObject> _unread = Channel.CreateUnbounded<JsonObject>();
    private readonly List<JsonObject> _received = [];
    private readonly Task _receiveLoop;

    private ProtocolClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public string Name { get; private set; } = "";

    /// <summary>Every frame received so far, in order.</summary>
    public IReadOnlyList<JsonObject> Received
    {
        get
        {
            lock (_received) return _received.ToList();
        }
    }

    /// <summary>Connects in JSON format as <paramref name="name"/> and waits for the welcome.</summary>
    public static Task<ProtocolClient> ConnectAsync(ChatServer server, string name) =>
        ConnectAsync(server.WebSocketUri(""), name);

    /// <summary>Connects to <paramref name="webSocketUri"/> (a server's or a proxy's <c>/ws</c>) in JSON format.</summary>
    public static async Task<ProtocolClient> ConnectAsync(Uri webSocketUri, string name)
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(webSocketUri) { Query = $"format=json&name={Uri.EscapeDataString(name)}" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        var client = new ProtocolClient(socket);
        JsonObject welcome = await client.WaitForAsync(f => Type(f) == "welcome");
        client.Name = (string)welcome["name"]!;
        return client;
    }

    public static string Type(JsonObject frame) => (string?)frame["type"] ?? "";

    public async Task SendAsync(JsonObject frame)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(frame.ToJsonString());
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Joins and returns the `joined` reply.</summary>
    public async Task<JsonObject> JoinAsync(string room)
    {
        await SendAsync(new JsonObject { ["type"] = "join", ["room"] = room });
        return await WaitForAsync(f => Type(f) == "joined" && (string?)f["room"] == room);
    }

    /// <summary>Says something and waits for its ack; returns the stored seq.</summary>
    public async Task<long> SayAsync(string room, string text)
    {
        // Unique across clients: the server dedups a repeated ref per name and room for 10 minutes.
        string reference = $"{Name}-{Guid.NewGuid():N}";
        await SendAsync(new JsonObject { ["type"] = "say", ["room"] = room, ["text"] = text, ["ref"] = reference });
        JsonObject reply = await WaitForAsync(f => (Type(f) == "ack" || Type(f) == "error") && (string?)f["ref"] == reference);
        if (Type(reply) == "error") throw new InvalidOperationException($"say was refused: {reply.ToJsonString()}");
        return (long)reply["seq"]!;
    }

    /// <summary>Reads frames until one matches; frames passed over stay in <see cref="Received"/>.</summary>
    public async Task<JsonObject> WaitForAsync(Func<JsonObject, bool> predicate, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                JsonObject frame = await _unread.Reader.ReadAsync(cancel.Token);
                if (predicate(frame)) return frame;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not receive the expected frame; last received: {DescribeLastFrames()}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name}'s socket closed ({_socket.CloseStatus} {_socket.CloseStatusDescription}) before the expected frame; last received: {DescribeLastFrames()}");
        }
    }

    private string DescribeLastFrames()
    {
        IEnumerable<string> last = Received.TakeLast(8).Select(f => f.ToJsonString()).Select(s => s.Length > 160 ? s[..160] + "…" : s);
        return string.Join(" | ", last);
    }

    /// <summary>Waits for a room message with exactly this text.</summary>
    public Task<JsonObject> WaitForMessageAsync(string room, string text) =>
        WaitForAsync(f => Type(f) == "message" && (string?)f["room"] == room && (string?)f["text"] == text);

    /// <summary>How many room messages with this text have arrived so far.</summary>
    public int CountMessages(string room, string text) =>
        Received.Count(f => Type(f) == "message" && (string?)f["room"] == room && (string?)f["text"] == text);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                WebSocketReceiveResult result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                JsonObject frame = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                lock (_received) _received.Add(frame);
                _unread.Writer.TryWrite(frame);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException or JsonException)
        {
            // Closed or aborted: readers see the channel complete.
        }
        finally
        {
            _unread.Writer.TryComplete();
        }
    }
}
