using System.Security.Cryptography;
using System.Text;

namespace ChatHub.Server.Connections;

/// <summary>
/// The server half of the RFC 6455 opening handshake, shared by both accept paths. Done here rather than by the
/// WebSocket middleware so the socket can be built over a batching stream (one flush per burst, not per frame)
/// and, on the transport path, without an HTTP request kept alive for the life of the socket.
/// </summary>
internal static class WebSocketHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Checks the request; on success <paramref name="connect"/> and <paramref name="accept"/> are set.</summary>
    public static HandshakeRefusal? Check(UpgradeRequest request, out ConnectRequest? connect, out string accept)
    {
        connect = null;
        accept = "";
        if (request.Method != "GET" || !HasToken(request.Connection, "upgrade") || !HasToken(request.Upgrade, "websocket"))
        {
            return HandshakeRefusal.UpgradeRequired;
        }

        if (request.Version?.Trim() != "13" || !IsValidKey(request.Key))
        {
            return new HandshakeRefusal(400, "expected Sec-WebSocket-Version 13 and a valid Sec-WebSocket-Key", "bad_key_or_version");
        }

        connect = ConnectRequest.Parse(request.QueryString, request.Subprotocols, out string? error);
        if (connect is null)
        {
            return new HandshakeRefusal(400, error!, "bad_query");
        }

        accept = ComputeAccept(request.Key!.Trim());
        return null;
    }

    public static string ComputeAccept(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }

    private static bool IsValidKey(string? key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return key is not null && Convert.TryFromBase64String(key.Trim(), decoded, out int written) && written == 16;
    }

    private static bool HasToken(string? value, string token)
    {
        foreach (var part in (value ?? "").Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Why an upgrade was refused: the HTTP status, a line for people, and the reason counted in /metrics.</summary>
internal sealed record HandshakeRefusal(int Status, string Message, string Reason)
{
    public static readonly HandshakeRefusal UpgradeRequired = new(426, "expected a WebSocket upgrade", "upgrade_required");

    public static readonly HandshakeRefusal ShuttingDown = new(503, "the server is shutting down", "shutting_down");
}
