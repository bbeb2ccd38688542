using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>What a socket receive or send did: the bytes moved, or why it failed.</summary>
internal readonly record struct SocketResult(int BytesTransferred, SocketError Error)
{
    public bool Succeeded => Error == SocketError.Success;
}

/// <summary>
/// One receive or send at a time on a socket, awaited without an allocation, whose failure is a
/// <see cref="SocketError"/> in its result instead of an exception. Why: <see cref="Socket"/>'s
/// <c>ReceiveAsync(Memory&lt;byte&gt;, …)</c> and <c>SendAsync(ReadOnlyMemory&lt;byte&gt;, …)</c> report a failure with a
/// <see cref="SocketException"/> that carries a formatted stack trace of where it was made
/// (<c>ExceptionDispatchInfo.SetCurrentStackTrace</c>); a Native AOT server names every frame of it from its metadata,
/// and when 10,000 peers vanish at once, sends into their reset sockets made about half of the server's CPU. The caller
/// decides what a failure means, and throws (cheaply, without that string) only where it has to.
/// </summary>
/// <remarks>
/// Not thread-safe: the owner keeps to one operation at a time (the WebSocket's receive gate, its single send loop).
/// The buffer is dropped when the result is taken, so a pooled array returned afterwards is not kept alive here.
/// </remarks>
internal sealed class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<SocketResult>
{
    private ManualResetValueTaskSourceCore<SocketResult> _source;

    public SocketOperation()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Receives into <paramref name="buffer"/>; an empty one waits until data (or the end) is there.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed, as <see cref="Socket"/>'s own throws it.</exception>
    public ValueTask<SocketResult> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        _source.Reset();
        SetBuffer(buffer);
        return socket.ReceiveAsync(this) ? new ValueTask<SocketResult>(this, _source.Version) : new ValueTask<SocketResult>(TakeResult());
    }

    /// <summary>Sends from <paramref name="buffer"/>; the result may count fewer bytes than asked, as a socket's send may.</summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed, as <see cref="Socket"/>'s own throws it.</exception>
    public ValueTask<SocketResult> SendAsync(Socket socket, ReadOnlyMemory<byte> buffer)
    {
        _source.Reset();
        // The send only reads the bytes; SocketAsyncEventArgs takes one buffer type for both directions.
        SetBuffer(System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer));
        return socket.SendAsync(this) ? new ValueTask<SocketResult>(this, _source.Version) : new ValueTask<SocketResult>(TakeResult());
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _source.SetResult(TakeResult());

    private SocketResult TakeResult()
    {
        var result = new SocketResult(BytesTransferred, SocketError);
        SetBuffer(Memory<byte>.Empty);
        return result;
    }

    SocketResult IValueTaskSource<SocketResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<SocketResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
