using ChatHub.Server.Protocol;

namespace ChatHub.Server.Connections;

/// <summary>
/// What each request costs from its connection's token bucket. Every frame costs something, so no request type
/// is free to repeat: a <c>say</c>, <c>dm</c> or <c>auth</c> (a signature check) costs a whole message; <c>nick</c>, <c>join</c> and <c>leave</c>
/// half of one, as each tells every room-mate (a join/leave/nick loop is a presence storm); requests answered to
/// the sender alone (<c>who</c>, <c>rooms</c>, <c>history</c>, <c>ping</c>, <c>help</c>, and frames that decode to an
/// error) a quarter. The bucket counts quarters, so <c>Limits:MessagesPerSecond</c> keeps its meaning for messages.
/// </summary>
internal static class RequestCosts
{
    /// <summary>Bucket tokens per message; the bucket's size and refill are the message limits times this.</summary>
    public const int PerMessage = 4;

    public static int Of(RequestKind? kind) => kind switch
    {
        RequestKind.Say or RequestKind.Dm or RequestKind.Auth => PerMessage,
        RequestKind.Nick or RequestKind.Join or RequestKind.Leave => PerMessage / 2,
        _ => 1,
    };
}
