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
}
