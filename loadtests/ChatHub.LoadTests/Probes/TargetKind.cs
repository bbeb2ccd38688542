using ChatHub.LoadTests.Cli;

namespace ChatHub.LoadTests.Probes;

/// <summary>What a target server speaks and what it can tell about itself.</summary>
internal enum TargetKind
{
    /// <summary>ChatHub: JSON format at <c>/ws</c>, <c>/api/stats</c> and <c>/metrics</c>.</summary>
    ChatHub,

    /// <summary>The Node <c>ws</c> peer: ChatHub's JSON subset at <c>/ws</c>, no ack, no presence, no stats endpoint.</summary>
    NodeWs,

    /// <summary>The SignalR peer: a hub at <c>/hub</c>, no stats endpoint.</summary>
    SignalR,
}

internal static class TargetKinds
{
    public static TargetKind Parse(string text) => text switch
    {
        "chathub" => TargetKind.ChatHub,
        "node-ws" => TargetKind.NodeWs,
        "signalr" => TargetKind.SignalR,
        _ => throw new UsageException($"unknown target kind '{text}' (chathub, node-ws, signalr)"),
    };

    public static string Name(this TargetKind kind) => kind switch
    {
        TargetKind.ChatHub => "chathub",
        TargetKind.NodeWs => "node-ws",
        TargetKind.SignalR => "signalr",
        _ => kind.ToString(),
    };

    /// <summary>For titles: ChatHub, Node ws, SignalR.</summary>
    public static string DisplayName(string kind) => kind switch
    {
        "node-ws" => "Node ws",
        "signalr" => "SignalR",
        _ => "ChatHub",
    };

    /// <summary>Whether the server answers <c>/api/stats</c>; the others are measured from their process alone.</summary>
    public static bool HasStats(this TargetKind kind) => kind == TargetKind.ChatHub;
}
