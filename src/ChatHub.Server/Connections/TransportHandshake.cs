using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using ChatHub.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>
/// A Kestrel connection middleware that accepts <c>GET /ws</c> upgrades itself, below the HTTP pipeline, and
/// hands every other connection on to ASP.NET Core untouched on the same port. A socket accepted here keeps
/// nothing of the HTTP request (no HttpContext, no header collections), which roughly halves the memory an idle
/// connection costs (see docs/benchmarks.md); the WebSocket framing is still .NET's own.
///
/// Only the first request of a connection is looked at, and nothing is consumed until it is known to be ours:
/// if its first bytes are not <c>GET /ws</c>, or its head is anything but the plainest well-formed upgrade
/// (<see cref="RequestHeadParser"/>), the connection is passed on with every byte still unread and Kestrel answers
/// it exactly as it answers any request. So both accept paths refuse the same heads with the same status codes,
/// under the same limits (Kestrel's own options). Under TLS the first bytes are a ClientHello, so TLS connections
/// always take the HTTP path.
/// </summary>
internal sealed partial class TransportHandshake(
    ConnectionRunner runner,
    ServerLifecycle lifecycle,
    UpgradeGate gate,
    IOptions<KestrelServerOptions> kestrel,
    ChatMetrics metrics,
    ILogger<TransportHandshake> logger)
{
    private readonly RequestHeadParser _parser = new(kestrel.Value.Limits);
    private readonly KestrelServerLimits _limits = kestrel.Value.Limits;

    public ConnectionDelegate Wrap(ConnectionDelegate next) => connection => HandleAsync(connection, next);

    private async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var (ours, accepted) = await TryAcceptAsync(connection);
        if (!ours)
        {
            await next(connection);
            return;
        }

        if (accepted is not { } connect)
        {
            return; // refused with an HTTP error, timed out, or the peer went away mid-handshake
        }

        runner.EnableTcpKeepAlive(connection.Features.Get<IConnectionSocketFeature>()?.Socket);
        var stream = new PipeBatchingStream(connection.Transport);
        using var socket = runner.CreateSocket(stream, connect.Subprotocol);
        await runner.RunAsync(socket, stream, connection.Abort, connect);
    }

    /// <summary>
    /// Not <c>Ours</c>: pass the connection on, nothing consumed. Otherwise the upgrade was answered: with 101 (and
    /// the request's <see cref="ConnectRequest"/>) or with an HTTP error (and null). Everything read from the head
    /// dies here.
    /// </summary>
    private async Task<(bool Ours, ConnectRequest? Connect)> TryAcceptAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        // Kestrel's own clocks: a connection that sends nothing is closed after KeepAliveTimeout, without a
        // word; once its first bytes are in, its head must be complete within RequestHeadersTimeout (408). At
        // shutdown Kestrel asks every connection to close; one still in its head closes at once, as Kestrel's do.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closing);
        timeout.CancelAfter(_limits.KeepAliveTimeout);
        bool started = false;
        long examined = 0;
        var scan = new HeadScan();
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                if (!started && !buffer.IsEmpty)
                {
                    started = true;
                    timeout.CancelAfter(_limits.RequestHeadersTimeout);
                }

                var verdict = Classify(buffer);
                string? reason = null;
                if (verdict == Verdict.Ours)
                {
                    switch (_parser.Scan(buffer, ref scan, out long headLength, out reason))
                    {
                        case HeadVerdict.Complete:
                            var head = buffer.Slice(0, headLength);
                            if (_parser.Parse(head, out reason) is { } request)
                            {
                                input.AdvanceTo(head.End);
                                return (true, await AnswerAsync(connection.Transport.Output, request, (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address));
                            }

                            verdict = Verdict.NotOurs;
                            break;
                        case HeadVerdict.Defer:
                            verdict = Verdict.NotOurs;
                            break;
                    }
                }

                if (verdict == Verdict.NotOurs || result.IsCompleted)
                {
                    if (verdict == Verdict.Ours || reason is not null)
                    {
                        metrics.HandshakeHandedOn(reason ?? "incomplete");
                    }

                    // Consume nothing; examined only what earlier reads saw, so the HTTP layer's first read
                    // returns at once with everything that is here.
                    input.AdvanceTo(buffer.Start, buffer.GetPosition(examined));
                    return (false, null);
                }

                examined = buffer.Length;
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            if (started && !closing.IsCancellationRequested)
            {
                // As Kestrel answers a head that takes longer than RequestHeadersTimeout.
                metrics.HandshakeRefused("headers_timeout");
                LogHandshakeTimedOut(logger, connection.ConnectionId);
                await WriteAsync(connection.Transport.Output, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            }

            return (true, null);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or InvalidOperationException)
        {
            return (true, null);
        }
    }

    private async Task<ConnectRequest?> AnswerAsync(PipeWriter output, UpgradeRequest request, System.Net.IPAddress? peer)
    {
        if (WebSocketHandshake.Check(request, out var connect, out string accept) is { } refusal)
        {
            metrics.HandshakeRefused(refusal.Reason);
            await WriteRefusalAsync(output, refusal);
            return null;
        }

        await lifecycle.Started;
        if (lifecycle.IsDraining)
        {
            metrics.HandshakeRefused(HandshakeRefusal.ShuttingDown.Reason);
            await WriteRefusalAsync(output, HandshakeRefusal.ShuttingDown);
            return null;
        }

        (connect, var denied) = await gate.AdmitAsync(request, connect!, peer);
        if (denied is not null)
        {
            metrics.HandshakeRefused(denied.Reason);
            await WriteRefusalAsync(output, denied);
            return null;
        }

        var response = new StringBuilder(160)
            .Append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ")
            .Append(accept).Append("\r\n");
        if (connect!.Subprotocol is { } subprotocol)
        {
            response.Append("Sec-WebSocket-Protocol: ").Append(subprotocol).Append("\r\n");
        }

        await output.WriteAsync(Encoding.ASCII.GetBytes(response.Append("\r\n").ToString()));
        return connect;
    }

    private static async Task WriteAsync(PipeWriter output, byte[] bytes)
    {
        try
        {
            await output.WriteAsync(bytes);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or InvalidOperationException)
        {
            // the peer is gone; nothing to tell it
        }
    }

    private static async Task WriteRefusalAsync(PipeWriter output, HandshakeRefusal refusal)
    {
        byte[] body = Encoding.UTF8.GetBytes(refusal.Message + "\n");
        string head = $"HTTP/1.1 {refusal.Status} {ReasonPhrase(refusal.Status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + $"Content-Length: {body.Length}\r\n{(refusal.Status == 400 ? "Sec-WebSocket-Version: 13\r\n" : "")}Connection: close\r\n\r\n";
        output.Write(Encoding.ASCII.GetBytes(head));
        await output.WriteAsync(body);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };

    private enum Verdict { Ours, NotOurs, NeedMore }

    /// <summary>Ours means the request line starts <c>GET /ws</c> followed by a space or <c>?</c>.</summary>
    private static Verdict Classify(ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> prefix = "GET /ws"u8;
        int needed = prefix.Length + 1;
        Span<byte> start = stackalloc byte[8];
        int available = (int)Math.Min(buffer.Length, needed);
        buffer.Slice(0, available).CopyTo(start);
        int compared = Math.Min(available, prefix.Length);
        if (!start[..compared].SequenceEqual(prefix[..compared]))
        {
            return Verdict.NotOurs;
        }

        if (available < needed)
        {
            return Verdict.NeedMore;
        }

        return start[prefix.Length] is (byte)' ' or (byte)'?' ? Verdict.Ours : Verdict.NotOurs;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} sent no complete request head within RequestHeadersTimeout: 408")]
    private static partial void LogHandshakeTimedOut(ILogger logger, string connectionId);
}
