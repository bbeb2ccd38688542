using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ChatHub.Server.Connections;

/// <summary>
/// The server half of the RFC 6455 opening handshake. Done here rather than by the WebSocket middleware so the
/// socket can be built over a <see cref="BatchingStream"/> (one flush per burst, not per frame).
/// </summary>
internal static class WebSocketHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static bool IsWebSocketRequest(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && HasToken(request.Headers.Connection, "upgrade")
        && HasToken(request.Headers.Upgrade, "websocket");

    public static bool HasSupportedVersion(HttpRequest request) =>
        string.Equals(request.Headers.SecWebSocketVersion, "13", StringComparison.Ordinal);

    public static bool TryGetKey(HttpRequest request, out string key)
    {
        key = request.Headers.SecWebSocketKey.ToString().Trim();
        Span<byte> decoded = stackalloc byte[24];
        return Convert.TryFromBase64String(key, decoded, out int written) && written == 16;
    }

    public static string ComputeAccept(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>The subprotocols the client offered, in its order of preference.</summary>
    public static IEnumerable<string> OfferedSubprotocols(HttpRequest request) =>
        request.Headers.SecWebSocketProtocol
            .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static void WriteAcceptHeaders(HttpResponse response, string key, string? subprotocol)
    {
        response.Headers.Connection = HeaderNames.Upgrade;
        response.Headers.Upgrade = "websocket";
        response.Headers.SecWebSocketAccept = ComputeAccept(key);
        if (subprotocol is not null)
        {
            response.Headers.SecWebSocketProtocol = subprotocol;
        }
    }

    private static bool HasToken(StringValues values, string token)
    {
        foreach (string? value in values)
        {
            foreach (var part in (value ?? "").Split(','))
            {
                if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
