using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using ChatHub.Server.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections.Listening;

/// <summary>
/// The opening of a socket the listener accepted: it waits for the first bytes, peeks at them, and takes the
/// connection only when they are a complete <c>GET /ws</c> upgrade in the plainest well-formed shape
/// (<see cref="RequestHeadParser"/>). Then it consumes exactly the head, answers it, and runs the connection. Anything
/// else (a head still arriving, another request, a TLS ClientHello, a head the parser defers) is handed to Kestrel
/// with every byte unread, and Kestrel answers it as it answers any request, under its own limits and clocks. So
/// both accept paths refuse the same heads with the same status codes.
/// </summary>
internal sealed partial class SocketHandshake(
    ConnectionRunner runner,
    ServerLifecycle lifecycle,
    UpgradeGate gate,
    TlsPorts tlsPorts,
    IOptions<KestrelServerOptions> kestrel,
    ChatMetrics metrics,
    ILogger<SocketHandshake> logger)
{
    /// <summary>What is peeked first: any ordinary upgrade head fits, with room to spare.</summary>
    private const int FirstPeekBytes = 4096;

    /// <summary>The most ever peeked: Kestrel's limits with their defaults fit; a larger head goes to Kestrel.</summary>
    private const int MaxPeekBytes = 64 * 1024;

    /// <summary>Stands for "the peer closed before its first byte" where a request or null is expected.</summary>
    private static readonly UpgradeRequest PeerGone = new() { Method = "", QueryString = "" };

    private readonly RequestHeadParser _parser = new(kestrel.Value.Limits);
    private readonly KestrelServerLimits _limits = kestrel.Value.Limits;

    /// <summary>
    /// Answers the socket's upgrade when it is ours. <see cref="HandshakeResult.HandOver"/>: nothing was read, the
    /// socket is Kestrel's to serve. Otherwise the socket has been accepted (the request's <see cref="ConnectRequest"/>
    /// and the <c>101</c> to send, which <see cref="Start"/> sends with the first frames), answered with an HTTP error
    /// (sent at once), or was silent or gone; without a connect request it is the caller's to close.
    /// </summary>
    public async Task<HandshakeResult> AcceptAsync(Socket socket, int localPort, CancellationToken stopping)
    {
        // Wait for the first bytes without a buffer: an idle socket holds nothing but itself. One that sends nothing
        // within Kestrel's KeepAliveTimeout is closed without a word, as Kestrel closes it; at shutdown at once.
        // The receive itself takes no token: the socket's cached receive operation would keep the token's
        // registration, and with it the linked source, for the life of the connection (about 200 bytes, seen in
        // heap dumps). The clock shuts the socket down instead, which ends the receive (and sends a FIN, not the
        // reset that disposing a socket with a receive pending would send).
        using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        using (quiet.Token.UnsafeRegister(static socket => ShutDown((Socket)socket!), socket))
        {
            quiet.CancelAfter(_limits.KeepAliveTimeout);
            try
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return HandshakeResult.Closed;
            }

            if (quiet.IsCancellationRequested)
            {
                return HandshakeResult.Closed; // the clock struck as the first bytes came
            }
        }

        try
        {
            // A TLS endpoint's bytes are Kestrel's to decrypt: nothing on it is read as a plaintext head. Asked once
            // the first bytes are in, so a socket that arrives while the server is still starting waits under the
            // silent-socket clock above, not without one.
            if (await tlsPorts.IsTlsAsync(localPort))
            {
                return HandshakeResult.HandOver;
            }

            // Everything read from the head dies with the peek buffer; only the parsed request goes on.
            if (await PeekUpgradeAsync(socket) is not { } request)
            {
                return HandshakeResult.HandOver;
            }

            if (ReferenceEquals(request, PeerGone))
            {
                return HandshakeResult.Closed;
            }

            var (connect, upgrade) = await AnswerAsync(socket, request);
            return new HandshakeResult(false, connect, upgrade);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return HandshakeResult.Closed; // the peer went away mid-handshake
        }
    }

    /// <summary>
    /// The upgrade request whose head the peek found complete, that head consumed; null to hand the socket to Kestrel
    /// with nothing read; <see cref="PeerGone"/> when the peer closed without a byte.
    /// </summary>
    private async Task<UpgradeRequest?> PeekUpgradeAsync(Socket socket)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FirstPeekBytes);
        try
        {
            int length = await socket.ReceiveAsync(buffer, SocketFlags.Peek);
            if (length == buffer.Length && Classify(buffer.AsSpan(0, length)) == Verdict.Ours)
            {
                // More may be waiting than the first peek saw: look again with room for the largest head there is.
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = ArrayPool<byte>.Shared.Rent(Math.Min(MaxPeekBytes, _limits.MaxRequestLineSize + _limits.MaxRequestHeadersTotalSize + 4));
                length = await socket.ReceiveAsync(buffer, SocketFlags.Peek);
            }

            if (length == 0)
            {
                return PeerGone;
            }

            if (Classify(buffer.AsSpan(0, length)) != Verdict.Ours)
            {
                return null; // not an upgrade to /ws, or too little of one to tell
            }

            var peeked = new ReadOnlySequence<byte>(buffer, 0, length);
            var scan = new HeadScan();
            switch (_parser.Scan(peeked, ref scan, out long headLength, out string? reason))
            {
                case HeadVerdict.Complete:
                    if (_parser.Parse(peeked.Slice(0, headLength), out reason) is { } request)
                    {
                        await ConsumeAsync(socket, buffer, (int)headLength);
                        return request;
                    }

                    break;
                case HeadVerdict.Incomplete:
                    reason = "incomplete"; // the rest is still on its way: Kestrel waits for it, under its clock
                    break;
            }

            metrics.HandshakeHandedOn(reason ?? "incomplete");
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Starts an accepted connection: the task ends with it, and the caller disposes the WebSocket and closes the
    /// socket afterwards. The <c>101</c> (<paramref name="upgrade"/>) is gathered ahead of the first frames and
    /// leaves in one socket send with them (or alone at once when the first frames wait on a store: see
    /// <see cref="ConnectionRunner.RunAsync"/>). Not async itself, so the request (its query's name and rooms) is not
    /// kept for the life of the connection by a suspended state machine.
    /// </summary>
    public (IDisposable WebSocket, Task Running) Start(Socket socket, ConnectRequest connect, byte[] upgrade)
    {
        WebSocket webSocket;
        IBatchingTransport transport;
        Action abort;
        try
        {
            (webSocket, transport, abort) = runner.CreateSocket(socket, connect.Subprotocol);
            ((SocketWebSocket)webSocket).GatherUpgradeResponse(upgrade);
        }
        catch
        {
            connect.AddressSlot?.Dispose(); // never ran (the socket was gone already): its per-address slot goes back
            throw;
        }

        return (webSocket, runner.RunAsync(webSocket, transport, abort, connect));
    }

    private static void ShutDown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // gone already
        }
    }

    /// <summary>Reads exactly the head's bytes, which the peek has shown are there; whatever follows stays unread.</summary>
    private static async ValueTask ConsumeAsync(Socket socket, byte[] buffer, int headLength)
    {
        int consumed = 0;
        while (consumed < headLength)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(consumed, headLength - consumed), SocketFlags.None);
            if (read == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            consumed += read;
        }
    }

    /// <summary>
    /// Checks and admits the upgrade. Accepted: the connect request and the <c>101</c> to send (not sent here, see
    /// <see cref="Start"/>); refused: nulls, the refusal sent at once.
    /// </summary>
    private async Task<(ConnectRequest? Connect, byte[]? Upgrade)> AnswerAsync(Socket socket, UpgradeRequest request)
    {
        if (WebSocketHandshake.Check(request, out var connect, out string accept) is { } refusal)
        {
            return await RefuseAsync(socket, refusal);
        }

        await lifecycle.Started;
        if (lifecycle.IsDraining)
        {
            return await RefuseAsync(socket, HandshakeRefusal.ShuttingDown);
        }

        (connect, var denied) = await gate.AdmitAsync(request, connect!, (socket.RemoteEndPoint as IPEndPoint)?.Address);
        if (denied is not null)
        {
            return await RefuseAsync(socket, denied);
        }

        // Armed before the 101 leaves: once the client holds an open WebSocket, its socket already has keep-alive.
        runner.EnableTcpKeepAlive(socket);
        var response = new StringBuilder(160)
            .Append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ")
            .Append(accept).Append("\r\n");
        if (connect!.Subprotocol is { } subprotocol)
        {
            response.Append("Sec-WebSocket-Protocol: ").Append(subprotocol).Append("\r\n");
        }

        return (connect, Encoding.ASCII.GetBytes(response.Append("\r\n").ToString()));
    }

    private async Task<(ConnectRequest?, byte[]?)> RefuseAsync(Socket socket, HandshakeRefusal refusal)
    {
        metrics.HandshakeRefused(refusal.Reason);
        LogRefused(logger, socket.RemoteEndPoint, refusal.Status, refusal.Reason);
        byte[] body = Encoding.UTF8.GetBytes(refusal.Message + "\n");
        string head = $"HTTP/1.1 {refusal.Status} {ReasonPhrase(refusal.Status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + $"Content-Length: {body.Length}\r\n{(refusal.Status == 400 ? "Sec-WebSocket-Version: 13\r\n" : "")}Connection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + Encoding.UTF8.GetString(body)), SocketFlags.None);

        // The answer first, then the FIN behind it: the caller's close does not cut the answer short.
        socket.Shutdown(SocketShutdown.Send);
        return (null, null);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };

    private enum Verdict { Ours, NotOurs, NeedMore }

    /// <summary>Ours means the request line starts <c>GET /ws</c> followed by a space or <c>?</c>.</summary>
    private static Verdict Classify(ReadOnlySpan<byte> start)
    {
        ReadOnlySpan<byte> prefix = "GET /ws"u8;
        int compared = Math.Min(start.Length, prefix.Length);
        if (!start[..compared].SequenceEqual(prefix[..compared]))
        {
            return Verdict.NotOurs;
        }

        if (start.Length <= prefix.Length)
        {
            return Verdict.NeedMore;
        }

        return start[prefix.Length] is (byte)' ' or (byte)'?' ? Verdict.Ours : Verdict.NotOurs;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upgrade from {RemoteEndPoint} refused with {Status} ({Reason})")]
    private static partial void LogRefused(ILogger logger, EndPoint? remoteEndPoint, int status, string reason);
}

/// <summary>
/// What became of a socket's opening: handed to Kestrel unread, or answered (accepted when Connect is set, with the
/// <c>101</c> still to send in Upgrade).
/// </summary>
internal readonly record struct HandshakeResult(bool ForKestrel, ConnectRequest? Connect, byte[]? Upgrade = null)
{
    /// <summary>Not ours: nothing was read, and Kestrel serves the socket.</summary>
    public static HandshakeResult HandOver => new(true, null);

    /// <summary>Silent, gone, or answered with an error: the socket is to be closed.</summary>
    public static HandshakeResult Closed => new(false, null);
}
