using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// The client side of the RFC 6455 opening handshake over a connected socket: a plain HTTP/1.1 GET with
/// <c>Upgrade: websocket</c>, then the server's head read up to its blank line and checked for status 101
/// and the <c>Sec-WebSocket-Accept</c> that answers our key.
/// </summary>
internal static class WebSocketUpgrade
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    // A 101 head is a few hundred bytes; anything bigger is not an upgrade answer we can use.
    private const int MaxHeadBytes = 8192;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>
    /// Upgrades <paramref name="socket"/> to a WebSocket at <paramref name="uri"/>. Returns a copy of the bytes
    /// the server sent after its head (its first frames may come in the same segment), usually none.
    /// </summary>
    public static async ValueTask<byte[]> PerformAsync(Socket socket, Uri uri, CancellationToken ct)
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        string key = Convert.ToBase64String(nonce);
        string request =
            $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        byte[] head = ArrayPool<byte>.Shared.Rent(MaxHeadBytes);
        try
        {
            int length = Encoding.ASCII.GetBytes(request, head);
            await socket.SendAsync(head.AsMemory(0, length), SocketFlags.None, ct).ConfigureAwait(false);

            int received = 0, end;
            while ((end = head.AsSpan(0, received).IndexOf(HeadEnd)) < 0)
            {
                if (received == MaxHeadBytes)
                {
                    throw new WebSocketException(WebSocketError.HeaderError, $"the server's answer head is longer than {MaxHeadBytes} bytes");
                }
                int read = await socket.ReceiveAsync(head.AsMemory(received, MaxHeadBytes - received), SocketFlags.None, ct).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the server closed the connection before answering the upgrade");
                }
                received += read;
            }
            Check(Encoding.ASCII.GetString(head, 0, end), key);

            return head.AsSpan(end + HeadEnd.Length, received - end - HeadEnd.Length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    /// <summary>Status 101 and the accept value SHA-1(key + GUID), base64, as RFC 6455 section 4.1 asks the client to check.</summary>
    internal static void Check(string head, string key)
    {
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "101")
        {
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"The server returned status code '{(status.Length > 1 ? status[1] : lines[0])}' when status code '101' was expected.");
        }
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                if (line.AsSpan(colon + 1).Trim().SequenceEqual(expected))
                {
                    return;
                }
                throw new WebSocketException(WebSocketError.HeaderError, "Sec-WebSocket-Accept does not answer our Sec-WebSocket-Key");
            }
        }
        throw new WebSocketException(WebSocketError.HeaderError, "the 101 answer has no Sec-WebSocket-Accept");
    }
}
