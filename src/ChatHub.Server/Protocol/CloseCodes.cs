using System.Net.WebSockets;

namespace ChatHub.Server.Protocol;

/// <summary>The close codes of docs/protocol.md, named by when they are used.</summary>
public static class CloseCodes
{
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;              // 1000
    public const WebSocketCloseStatus ShuttingDown = WebSocketCloseStatus.EndpointUnavailable;   // 1001
    public const WebSocketCloseStatus ProtocolError = WebSocketCloseStatus.ProtocolError;         // 1002, sent by .NET's WebSocket itself
    public const WebSocketCloseStatus BinaryFrame = WebSocketCloseStatus.InvalidMessageType;    // 1003
    public const WebSocketCloseStatus InvalidUtf8 = WebSocketCloseStatus.InvalidPayloadData;    // 1007
    public const WebSocketCloseStatus Abuse = WebSocketCloseStatus.PolicyViolation;             // 1008
    public const WebSocketCloseStatus FrameTooLarge = WebSocketCloseStatus.MessageTooBig;       // 1009
    public const WebSocketCloseStatus SlowConsumer = (WebSocketCloseStatus)1013;                // try again later
    public const WebSocketCloseStatus TokenExpired = (WebSocketCloseStatus)4001;                // token expired, no auth renewed it
}
