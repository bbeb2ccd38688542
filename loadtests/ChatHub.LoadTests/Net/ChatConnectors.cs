using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Net;

/// <summary>The connector that speaks to a kind of server.</summary>
internal static class ChatConnectors
{
    public static IChatConnector For(TargetKind kind) => kind switch
    {
        TargetKind.ChatHub or TargetKind.NodeWs => new JsonWebSocketConnector(),
        TargetKind.SignalR => new SignalRConnector(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown target kind"),
    };

    /// <summary>
    /// The connector for idle connections that only read: the lean <see cref="RawWebSocketConnector"/> where the
    /// server speaks plain WebSockets without TLS (its connects then cost the generator little next to the
    /// server), else the kind's own client.
    /// </summary>
    public static IChatConnector ForIdle(TargetKind kind, bool plainHttp) =>
        plainHttp && kind is TargetKind.ChatHub or TargetKind.NodeWs ? new RawWebSocketConnector() : For(kind);
}
