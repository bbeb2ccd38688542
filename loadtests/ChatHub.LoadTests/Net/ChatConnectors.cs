using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Net;

/// <summary>The connector that speaks to a kind of server.</summary>
internal static class ChatConnectors
{
    /// <summary>The kind's own client: <see cref="System.Net.WebSockets.ClientWebSocket"/>-based for ChatHub and Node, SignalR's for SignalR.</summary>
    public static IChatConnector For(TargetKind kind) => kind switch
    {
        TargetKind.ChatHub or TargetKind.NodeWs => new JsonWebSocketConnector(),
        TargetKind.SignalR => new SignalRConnector(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown target kind"),
    };

    /// <summary>
    /// The connector the idle ramp, fan-out and chat use: the lean <see cref="RawWebSocketConnector"/> where the
    /// server speaks plain WebSockets without TLS (ChatHub, the Node <c>ws</c> peer), so connecting and reading cost
    /// the generator little next to the server on shared cores; else the kind's own client (SignalR, any
    /// <c>https://</c> server).
    /// </summary>
    public static IChatConnector ForMessaging(TargetKind kind, IEnumerable<Uri> servers) =>
        kind is TargetKind.ChatHub or TargetKind.NodeWs && servers.All(u => u.Scheme == Uri.UriSchemeHttp)
            ? new RawWebSocketConnector()
            : For(kind);
}
