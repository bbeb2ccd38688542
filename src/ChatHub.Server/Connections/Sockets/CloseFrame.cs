using System.Net.WebSockets;
using System.Text;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>The rules of a close frame's payload (RFC 6455 5.5.1, 7.4), both ways.</summary>
internal static class CloseFrame
{
    /// <summary>A close reason is at most 123 bytes of UTF-8, so the payload fits a control frame.</summary>
    public const int MaxReasonBytes = FrameHeader.MaxControlPayload - 2;

    /// <summary>The codes a peer may send: the protocol's defined ones, and 3000-4999 for applications.</summary>
    public static bool IsValidReceived(int code) => code switch
    {
        >= 3000 and < 5000 => true,
        1000 or 1001 or 1002 or 1003 or 1007 or 1008 or 1009 or 1010 or 1011 or 1012 or 1013 or 1014 => true,
        _ => false,
    };

    /// <summary>What .NET's WebSocket refuses to send, refused the same way.</summary>
    public static void ValidateSent(WebSocketCloseStatus status, string? reason)
    {
        if (status == WebSocketCloseStatus.Empty)
        {
            if (!string.IsNullOrEmpty(reason))
            {
                throw new ArgumentException("The close status 'Empty' takes no description.", nameof(reason));
            }
        }
        else if ((int)status is >= 0 and <= 999 or 1006 or 1015)
        {
            throw new ArgumentException($"The close status code '{(int)status}' is reserved for system use only and cannot be specified when calling this method.", nameof(status));
        }

        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
        {
            throw new ArgumentException($"The close description is too long: at most {MaxReasonBytes} bytes of UTF-8.", nameof(reason));
        }
    }

    /// <summary>
    /// Writes the payload (code, then reason) and returns its length. Like .NET's, the code is always written, even
    /// <see cref="WebSocketCloseStatus.Empty"/> (1005).
    /// </summary>
    public static int Write(Span<byte> destination, WebSocketCloseStatus status, string? reason)
    {
        destination[0] = (byte)((int)status >> 8);
        destination[1] = (byte)(int)status;
        return 2 + (string.IsNullOrEmpty(reason) ? 0 : Encoding.UTF8.GetBytes(reason, destination[2..]));
    }
}
