using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// One client WebSocket: a receive loop feeding an <see cref="IFrameSink"/> and a send method.
/// The loop can be paused between frames, which is how the slow-consumer scenario stops reading.
/// </summary>
internal sealed class LoadConnection : IChatConnection
{
    private readonly ClientWebSocket _socket;
    private readonly int _initialBufferBytes;
    private readonly object _gateLock = new();
    private TaskCompletionSource? _resume;
    private Task _receiveLoop = Task.CompletedTask;
    private volatile bool _disposing;

    private LoadConnection(ClientWebSocket socket, int initialBufferBytes)
    {
        _socket = socket;
        _initialBufferBytes = initialBufferBytes;
    }

    public WebSocket Socket => _socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<LoadConnection> OpenAsync(
        WebSocketConnector connector, Uri uri, IPAddress? source, TimeSpan timeout, int initialBufferBytes, CancellationToken ct)
    {
        ClientWebSocket socket = await connector.ConnectAsync(uri, source, timeout, ct).ConfigureAwait(false);
        return new LoadConnection(socket, initialBufferBytes);
    }

    /// <summary>Starts reading into <paramref name="sink"/> until the socket ends or the connection is disposed.</summary>
    public void StartReceiving(IFrameSink sink) => _receiveLoop = ReceiveLoopAsync(sink);

    /// <summary>Stops issuing receives after the frame in progress: the OS buffers, then the server's outbox, fill up.</summary>
    public void PauseReading()
    {
        lock (_gateLock)
        {
            _resume ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void ResumeReading()
    {
        TaskCompletionSource? resume;
        lock (_gateLock)
        {
            resume = _resume;
            _resume = null;
        }
        resume?.TrySetResult();
    }

    /// <summary>A <c>say</c> in ChatHub's JSON format (the Node peer reads the same frame).</summary>
    public ValueTask SayAsync(string room, string text, CancellationToken ct) => SendAsync(FrameCodec.Say(room, text), ct);

    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8, CancellationToken ct) =>
        _socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, ct);

    private async Task ReceiveLoopAsync(IFrameSink sink)
    {
        await Task.Yield();
        byte[] buffer = new byte[_initialBufferBytes];
        try
        {
            while (true)
            {
                Task? gate;
                lock (_gateLock)
                {
                    gate = _resume?.Task;
                }
                if (gate is not null)
                {
                    await gate.ConfigureAwait(false);
                }

                int count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    result = await _socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).ConfigureAwait(false);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    sink.OnClosed(_socket.CloseStatus, _socket.CloseStatusDescription);
                    return;
                }
                sink.OnFrame(buffer.AsSpan(0, count), Stopwatch.GetTimestamp());
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            if (!_disposing)
            {
                sink.OnClosed(_socket.CloseStatus, ex.GetType().Name + ": " + ex.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        ResumeReading();
        _socket.Abort();
        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop only ends with socket errors here, which are expected on abort.
        }
    }
}
