using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// A test client over a real <see cref="ClientWebSocket"/>. Every wait is for a frame or a close, bounded by
/// <see cref="Timeout"/> so a broken server fails the test instead of hanging it.
/// </summary>
public sealed class WsClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[256 * 1024];

    private WsClient(ClientWebSocket socket) => _socket = socket;

    public ClientWebSocket Socket => _socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Like a browser, answer the server's close frame at once; false plays a peer that never answers.</summary>
    public bool AnswersClose { get; set; } = true;

    public static async Task<WsClient> ConnectAsync(Uri uri, params string[] subprotocols)
    {
        var socket = new ClientWebSocket();
        foreach (string p in subprotocols)
        {
            socket.Options.AddSubProtocol(p);
        }

        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(uri, cts.Token);
        return new WsClient(socket);
    }

    public Task SendTextAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendJsonAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, type, endOfMessage: true, cts.Token);
    }

    /// <summary>The next text frame; null when the server closed instead.</summary>
    public Task<string?> ReceiveAsync() => ReceiveAsync(awaited: null);

    /// <summary>
    /// The next text frame, or null when the server closed instead. A frame that does not come within
    /// <see cref="Timeout"/> fails the test with what it waited for (<paramref name="awaited"/>), still as an
    /// <see cref="OperationCanceledException"/> for callers that expect silence.
    /// </summary>
    private async Task<string?> ReceiveAsync(Func<string>? awaited)
    {
        using var cts = new CancellationTokenSource(Timeout);
        int length = 0;
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(_buffer.AsMemory(length), cts.Token);
            }
            catch (OperationCanceledException e) when (cts.IsCancellationRequested)
            {
                throw new OperationCanceledException(
                    $"no frame came within {Timeout.TotalSeconds:0} s{(awaited is null ? "" : " while " + awaited())}", e, cts.Token);
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (AnswersClose && _socket.State == WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
                }

                return null;
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(_buffer, 0, length);
            }
        }
    }

    /// <summary>The next frame, which must be JSON.</summary>
    public Task<JsonObject> NextAsync() => NextAsync(awaited: null);

    private async Task<JsonObject> NextAsync(Func<string>? awaited)
    {
        string? text = await ReceiveAsync(awaited);
        Assert.True(text is not null, $"the server closed ({_socket.CloseStatus} {_socket.CloseStatusDescription}) where a frame was expected");
        return JsonNode.Parse(text!)!.AsObject();
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<JsonObject> ExpectAsync(string type)
    {
        var frame = await NextAsync(() => $"a {type} frame was awaited (nothing came instead)");
        Assert.True((string?)frame["type"] == type, $"expected a {type} frame, got {frame.ToJsonString()}");
        return frame;
    }

    /// <summary>Skips frames until one of <paramref name="type"/> that matches; for interleavings the test does not fix.</summary>
    public async Task<JsonObject> WaitForAsync(string type, Func<JsonObject, bool>? match = null)
    {
        // What came instead, for the failure message: the last few frames skipped (an error frame is the usual answer).
        var skipped = new Queue<string>();
        int count = 0;
        while (true)
        {
            var frame = await NextAsync(() => $"a {type} frame was awaited; {count} other frame(s) came instead" +
                (count == 0 ? "" : $", the last: {string.Join(" ", skipped)}"));
            if ((string?)frame["type"] == type && (match is null || match(frame)))
            {
                return frame;
            }

            count++;
            skipped.Enqueue(EchoedFrame(frame));
            if (skipped.Count > 5)
            {
                skipped.Dequeue();
            }
        }
    }

    private static string EchoedFrame(JsonObject frame)
    {
        string json = frame.ToJsonString();
        return json.Length <= 200 ? json : json[..200] + "…";
    }

    /// <summary>Text format: skips lines until one that contains <paramref name="fragment"/>.</summary>
    public async Task<string> WaitForLineAsync(string fragment)
    {
        while (true)
        {
            string? line = await ReceiveAsync(() => $"a line with '{fragment}' was awaited");
            Assert.True(line is not null, $"the server closed ({_socket.CloseStatus}) while waiting for a line with '{fragment}'");
            if (line!.Contains(fragment, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    /// <summary>Reads (and drops) frames until the server's close frame; returns its code.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        try
        {
            while (await ReceiveAsync() is not null)
            {
            }
        }
        catch (WebSocketException)
        {
            // the server went away without a close frame: CloseStatus stays null, which the test reports
        }

        return _socket.CloseStatus;
    }

    /// <summary>Connects, checks the welcome, and returns the client with its assigned name.</summary>
    public async Task<string> ReadWelcomeNameAsync() => (string)(await ExpectAsync("welcome"))["name"]!;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}
