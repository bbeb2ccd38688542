using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ChatHub.Server.Hosting;
using ChatHub.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace ChatHub.Server.Connections;

/// <summary>
/// A Kestrel connection middleware that accepts <c>GET /ws</c> upgrades itself, below the HTTP pipeline, and
/// hands every other connection on to ASP.NET Core untouched on the same port. A socket accepted here keeps
/// nothing of the HTTP request (no HttpContext, no header collections), which roughly halves the memory an idle
/// connection costs (see docs/benchmarks.md); the WebSocket framing is still .NET's own.
///
/// Only the first request of a connection is looked at: if its first bytes are not <c>GET /ws</c> the connection
/// is passed on at once, with nothing consumed. Under TLS the first bytes are a ClientHello, so TLS connections
/// always take the HTTP path.
/// </summary>
internal sealed partial class TransportHandshake(ConnectionRunner runner, ServerLifecycle lifecycle, UpgradeGate gate, ILogger<TransportHandshake> logger)
{
    private const int MaxHeadBytes = 16 * 1024;
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

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
            return; // refused with an HTTP error, or the peer went away mid-handshake
        }

        runner.EnableTcpKeepAlive(connection.Features.Get<IConnectionSocketFeature>()?.Socket);
        var stream = new PipeBatchingStream(connection.Transport);
        using var socket = runner.CreateSocket(stream, connect.Subprotocol);
        await runner.RunAsync(socket, stream, connection.Abort, connect);
    }

    /// <summary>
    /// Not <c>Ours</c>: pass the connection on. Otherwise the upgrade was answered: with 101 (and the request's
    /// <see cref="ConnectRequest"/>) or with an HTTP error (and null). Everything read from the head dies here.
    /// </summary>
    private async Task<(bool Ours, ConnectRequest? Connect)> TryAcceptAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = new CancellationTokenSource(HeadTimeout);
        long examined = 0;
        try
        {
            // Is it ours? Look at as few bytes as decide it.
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var verdict = Classify(buffer);
                if (verdict == Verdict.NotOurs || (verdict == Verdict.NeedMore && result.IsCompleted))
                {
                    // Consume nothing; examined only what earlier reads saw, so the HTTP layer's first read
                    // returns at once with everything that is here.
                    input.AdvanceTo(buffer.Start, buffer.GetPosition(examined));
                    return (false, null);
                }

                if (verdict == Verdict.Ours)
                {
                    input.AdvanceTo(buffer.Start, buffer.GetPosition(examined));
                    break;
                }

                examined = buffer.Length;
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            // Ours: read the whole head.
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                if (reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
                {
                    var request = ParseHead(head);
                    input.AdvanceTo(reader.Position);
                    return (true, await AnswerAsync(connection.Transport.Output, request, (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address));
                }

                if (buffer.Length > MaxHeadBytes || result.IsCompleted)
                {
                    input.AdvanceTo(buffer.End);
                    await WriteRefusalAsync(connection.Transport.Output, new HandshakeRefusal(431, "request head too large"));
                    return (true, null);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            LogHandshakeTimedOut(logger, connection.ConnectionId);
            return (true, null);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or InvalidOperationException)
        {
            return (true, null);
        }
    }

    private async Task<ConnectRequest?> AnswerAsync(PipeWriter output, UpgradeRequest? request, System.Net.IPAddress? peer)
    {
        if (request is null)
        {
            await WriteRefusalAsync(output, new HandshakeRefusal(400, "malformed request"));
            return null;
        }

        if (WebSocketHandshake.Check(request, out var connect, out string accept) is { } refusal)
        {
            await WriteRefusalAsync(output, refusal);
            return null;
        }

        await lifecycle.Started;
        if (lifecycle.IsDraining)
        {
            await WriteRefusalAsync(output, new HandshakeRefusal(503, "the server is shutting down"));
            return null;
        }

        (connect, var denied) = await gate.AdmitAsync(request, connect!, peer);
        if (denied is not null)
        {
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
        429 => "Too Many Requests",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
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

    /// <summary>The request line and the headers the handshake needs; null if it is not HTTP/1.1 as we know it.</summary>
    private static UpgradeRequest? ParseHead(ReadOnlySequence<byte> head)
    {
        string text = Encoding.Latin1.GetString(head);
        string[] lines = text.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine is not [var method, var target, var version] || !version.StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        int queryStart = target.IndexOf('?');
        string path = queryStart < 0 ? target : target[..queryStart];
        if (path != "/ws")
        {
            return null;
        }

        string? connectionHeader = null, upgrade = null, wsVersion = null, key = null, origin = null, protocols = null;
        string? host = null, authorization = null, forwardedFor = null;
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                return null;
            }

            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            switch (name.ToLowerInvariant())
            {
                case "connection": connectionHeader = Append(connectionHeader, value); break;
                case "upgrade": upgrade = Append(upgrade, value); break;
                case "sec-websocket-version": wsVersion = value; break;
                case "sec-websocket-key": key = value; break;
                case "origin": origin = value; break;
                case "host": host = value; break;
                case "authorization": authorization = value; break;
                case "x-forwarded-for": forwardedFor = Append(forwardedFor, value); break;
                case "sec-websocket-protocol": protocols = Append(protocols, value); break;
            }
        }

        return new UpgradeRequest
        {
            Method = method,
            QueryString = queryStart < 0 ? "" : target[queryStart..],
            Connection = connectionHeader,
            Upgrade = upgrade,
            Version = wsVersion,
            Key = key,
            Origin = origin,
            Host = host,
            Authorization = authorization,
            ForwardedFor = forwardedFor,
            Subprotocols = UpgradeRequest.SplitList(protocols),
        };
    }

    private static string Append(string? existing, string value) => existing is null ? value : existing + ", " + value;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} sent no complete request head in time")]
    private static partial void LogHandshakeTimedOut(ILogger logger, string connectionId);
}
