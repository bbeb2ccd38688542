using System.Buffers.Binary;
using System.Net.WebSockets;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// Keep-alive, ticked by the server's one <see cref="KeepAliveClock"/> instead of a timer per socket. The semantics
/// are .NET's: with a timeout, a ping (an 8-byte counter) once the peer has sent nothing for an interval, and an
/// abort when its pong has not come within the timeout; without one, an unsolicited pong every interval.
/// </summary>
internal sealed partial class SocketWebSocket
{
    private readonly int _keepAliveIntervalMs; // 0: no keep-alive
    private readonly int _keepAliveTimeoutMs;  // 0: unsolicited pongs
    private long _nextKeepAliveAt;
    private long _pongDeadline = long.MaxValue;
    private long _pingPayload;

    /// <summary>The clock's intrusive list: registering and removing a socket allocates nothing.</summary>
    internal SocketWebSocket? KeepAliveNext;
    internal SocketWebSocket? KeepAlivePrevious;
    internal bool KeepAliveRegistered;

    /// <summary>Cheap enough to ask of every registered socket each tick.</summary>
    internal bool IsKeepAliveDue(long now) =>
        now >= Volatile.Read(ref _nextKeepAliveAt) || now > Volatile.Read(ref _pongDeadline);

    internal void OnKeepAliveTick(long now)
    {
        // Nothing follows our close frame (RFC 6455 5.5.1), and a finished socket sends nothing at all. This only
        // saves work: a close queued after this check still wins, since the send itself refuses to follow it.
        if (Volatile.Read(ref _closeFrameQueued) || _state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        if (_keepAliveTimeoutMs == 0)
        {
            if (now >= Volatile.Read(ref _nextKeepAliveAt))
            {
                Volatile.Write(ref _nextKeepAliveAt, now + _keepAliveIntervalMs);
                SendControlInBackground(FrameOpcode.Pong, default);
            }

            return;
        }

        if (Volatile.Read(ref _pongDeadline) != long.MaxValue)
        {
            if (now > Volatile.Read(ref _pongDeadline))
            {
                Abort(); // the peer is gone: the pending receive ends, and with it the connection
            }

            return;
        }

        if (now >= Volatile.Read(ref _nextKeepAliveAt))
        {
            Span<byte> payload = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64BigEndian(payload, Interlocked.Increment(ref _pingPayload));
            Volatile.Write(ref _pongDeadline, now + _keepAliveTimeoutMs);
            SendControlInBackground(FrameOpcode.Ping, payload);
        }
    }

    /// <summary>Any bytes from the peer show it alive: the next ping waits a whole interval from now.</summary>
    private void OnDataReceived()
    {
        if (_keepAliveTimeoutMs != 0)
        {
            Volatile.Write(ref _nextKeepAliveAt, Environment.TickCount64 + _keepAliveIntervalMs);
        }
    }

    /// <summary>The pong of our last ping (same counter) ends the wait; any other pong is unsolicited and ignored.</summary>
    private void OnPongReceived(ReadOnlySpan<byte> payload)
    {
        if (_keepAliveTimeoutMs != 0 && payload.Length == sizeof(long)
            && BinaryPrimitives.ReadInt64BigEndian(payload) == Interlocked.Read(ref _pingPayload))
        {
            Volatile.Write(ref _pongDeadline, long.MaxValue);
        }
    }
}
