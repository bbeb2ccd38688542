using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ChatHub.Server.Connections;

/// <summary>
/// Reads the head of a <c>GET /ws</c> request for the transport-level handshake, and only the plainest form of it:
/// <c>GET /ws[?query] HTTP/1.1</c>, CRLF line ends, one <c>Host</c>, header names that are tokens right before
/// their colon, printable ASCII values, no header twice, no body, comfortably within Kestrel's limits. That is a
/// strict subset of what Kestrel accepts, so whatever the parser takes, Kestrel would have taken too. Anything
/// else is <see cref="HeadVerdict.Defer"/>: the connection goes to Kestrel untouched and Kestrel answers it
/// (400, 414, 431, 505, or an upgrade through the HTTP path), so both accept paths refuse exactly the same heads
/// with the same status codes, because the same code refuses them.
/// </summary>
internal sealed partial class RequestHeadParser(KestrelServerLimits limits)
{
    // Kestrel counts its limits slightly differently in places (line ends, the request line's own end); staying a
    // little below them only ever sends a borderline head to Kestrel, never takes one Kestrel would refuse.
    private const int Margin = 64;

    private static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // RFC 3986 query characters, without '#' (a fragment has no business on the wire).
    private static readonly SearchValues<byte> QueryBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    // Printable ASCII and tab: no NUL, CR, other controls, DEL or bytes past ASCII.
    private static readonly SearchValues<byte> ValueBytes = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    private readonly int _maxRequestLine = limits.MaxRequestLineSize - Margin;
    private readonly int _maxHeaderBytes = limits.MaxRequestHeadersTotalSize - Margin;
    private readonly int _maxHeaderCount = limits.MaxRequestHeaderCount - 1;

    /// <summary>
    /// Checks the lines completed since the last call, as Kestrel does while a head arrives: a line Kestrel would
    /// refuse is handed to it as soon as it is complete, and a head past a size limit as soon as it is past it, so
    /// the refusal comes when Kestrel's would. Searches only bytes not searched before, so a head that trickles in a
    /// byte at a time costs linear work. Complete: <paramref name="headLength"/> is the head with its blank line.
    /// </summary>
    public HeadVerdict Scan(ReadOnlySequence<byte> buffer, ref HeadScan state, out long headLength, out string? reason)
    {
        headLength = 0;
        reason = null;
        while (buffer.Slice(state.Searched).PositionOf((byte)'\n') is { } lf)
        {
            long lineEnd = buffer.Slice(0, lf).Length;
            var line = buffer.Slice(state.LineStart, lineEnd - state.LineStart);
            state.LineStart = state.Searched = lineEnd + 1;
            if (line.IsEmpty || !line.Slice(line.Length - 1).FirstSpan.SequenceEqual("\r"u8))
            {
                reason = "line_end"; // a bare LF: Kestrel decides what it means
                return HeadVerdict.Defer;
            }

            line = line.Slice(0, line.Length - 1);
            if (state.Lines == 0)
            {
                state.HeadersStart = state.LineStart;
                if (ParseRequestLine(line.ToArray(), out reason) is null)
                {
                    return HeadVerdict.Defer;
                }
            }
            else if (line.IsEmpty)
            {
                headLength = state.LineStart;
                return HeadVerdict.Complete;
            }
            else if (!IsPlainHeaderLine(line.ToArray(), out reason))
            {
                return HeadVerdict.Defer;
            }

            state.Lines++;
            if (state.Lines - 1 > _maxHeaderCount)
            {
                reason = "limit";
                return HeadVerdict.Defer;
            }
        }

        state.Searched = buffer.Length;
        bool tooLong = state.Lines == 0
            ? buffer.Length > _maxRequestLine
            : buffer.Length - state.HeadersStart > _maxHeaderBytes;
        if (tooLong)
        {
            reason = "limit";
            return HeadVerdict.Defer;
        }

        return HeadVerdict.Incomplete;
    }

    private static bool IsPlainHeaderLine(ReadOnlySpan<byte> line, out string? reason)
    {
        reason = null;
        int nameLength = line.IndexOfAnyExcept(TokenBytes);
        if (nameLength <= 0 || line[nameLength] != ':')
        {
            reason = "header_syntax"; // obs-fold, space before the colon, no name, a non-token name
            return false;
        }

        if (line[(nameLength + 1)..].ContainsAnyExcept(ValueBytes))
        {
            reason = "header_value"; // NUL, CR, other controls, DEL, bytes past ASCII
            return false;
        }

        return true;
    }

    /// <summary>The upgrade request a complete head asks for, or null (with a reason) to hand the head to Kestrel.</summary>
    public UpgradeRequest? Parse(ReadOnlySequence<byte> head, out string? reason)
    {
        byte[] bytes = head.ToArray();
        var span = bytes.AsSpan(0, bytes.Length - 2); // without the blank line's CR LF
        int lineEnd = span.IndexOf("\r\n"u8);
        var requestLine = span[..lineEnd];
        if (ParseRequestLine(requestLine, out reason) is not { } query)
        {
            return null;
        }

        string? connection = null, upgrade = null, version = null, key = null, origin = null, protocols = null;
        string? host = null, authorization = null, forwardedFor = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var headers = span[(lineEnd + 2)..];
        if (headers.Length > _maxHeaderBytes)
        {
            reason = "limit";
            return null;
        }

        while (headers.Length > 0)
        {
            int end = headers.IndexOf("\r\n"u8);
            var line = headers[..end];
            headers = headers[(end + 2)..];
            if (!IsPlainHeaderLine(line, out reason))
            {
                return null;
            }

            int nameLength = line.IndexOf((byte)':');
            var value = line[(nameLength + 1)..].Trim(" \t"u8);
            string name = Encoding.ASCII.GetString(line[..nameLength]);
            if (!seen.Add(name) || seen.Count > _maxHeaderCount)
            {
                reason = seen.Count > _maxHeaderCount ? "limit" : "duplicate_header";
                return null;
            }

            string text = Encoding.ASCII.GetString(value);
            switch (name.ToLowerInvariant())
            {
                case "host": host = text; break;
                case "connection": connection = text; break;
                case "upgrade": upgrade = text; break;
                case "sec-websocket-version": version = text; break;
                case "sec-websocket-key": key = text; break;
                case "origin": origin = text; break;
                case "authorization": authorization = text; break;
                case "x-forwarded-for": forwardedFor = text; break;
                case "sec-websocket-protocol": protocols = text; break;
                case "content-length" or "transfer-encoding":
                    reason = "body"; // an upgrade with a body: Kestrel does not take it as an upgrade
                    return null;
            }
        }

        if (host is null || !PlainHost().IsMatch(host))
        {
            reason = "host";
            return null;
        }

        return new UpgradeRequest
        {
            Method = "GET",
            QueryString = query,
            Connection = connection,
            Upgrade = upgrade,
            Version = version,
            Key = key,
            Origin = origin,
            Host = host,
            Authorization = authorization,
            ForwardedFor = forwardedFor,
            Subprotocols = UpgradeRequest.SplitList(protocols),
        };
    }

    /// <summary><c>GET /ws[?query] HTTP/1.1</c> exactly; the query string (with its '?') or null.</summary>
    private string? ParseRequestLine(ReadOnlySpan<byte> line, out string? reason)
    {
        reason = null;
        if (line.Length > _maxRequestLine)
        {
            reason = "limit";
            return null;
        }

        if (!line.StartsWith("GET /ws"u8) || !line.EndsWith(" HTTP/1.1"u8))
        {
            reason = "request_line";
            return null;
        }

        var query = line["GET /ws"u8.Length..^" HTTP/1.1"u8.Length];
        if (query.Length > 0 && (query[0] != '?' || query.IndexOfAnyExcept(QueryBytes) >= 0))
        {
            reason = "request_line";
            return null;
        }

        return Encoding.ASCII.GetString(query);
    }

    /// <summary>A name or address with an optional port: what every client sends, and Kestrel accepts.</summary>
    [GeneratedRegex(@"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainHost();
}

internal enum HeadVerdict { Incomplete, Complete, Defer }

/// <summary>Where <see cref="RequestHeadParser.Scan"/> got to in a head that is still arriving.</summary>
internal struct HeadScan
{
    public long Searched;
    public long LineStart;
    public long HeadersStart;
    public int Lines;
}
