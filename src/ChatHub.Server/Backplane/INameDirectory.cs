using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane;

/// <summary>
/// Names, unique across every node and compared without case, and the way to a name's connection for DMs.
/// One node keeps them in a dictionary; a cluster claims them in Redis (SET NX) and routes a DM to the node
/// that holds the name.
/// </summary>
internal interface INameDirectory
{
    /// <summary>Claims a name for a connection of this node. Claiming a name one already holds succeeds.</summary>
    ValueTask<ClaimOutcome> TryClaimAsync(string name, ChatConnection owner);

    /// <summary>Frees a name this connection holds (never someone else's).</summary>
    void Release(string name, ChatConnection owner);

    /// <summary>A fresh <c>guest-xxxxxx</c> name claimed for the connection.</summary>
    ValueTask<string> ClaimGuestNameAsync(ChatConnection owner);

    /// <summary>
    /// Delivers a DM to every connection holding <see cref="DmEvent.To"/> (matched without case) wherever it is.
    /// </summary>
    ValueTask<DirectDelivery> SendDirectAsync(DmEvent dm);

    /// <summary>This node's connections holding the name (several for a user on several devices); empty when none.</summary>
    ChatConnection[] FindLocal(string name);
}

/// <summary>How a DM went.</summary>
/// <param name="Recipient">The recipient's name as it holds it; null when nobody holds the name.</param>
/// <param name="Queued">
/// Connections that queued it (a DM handed to another node counts as one): 0 with a recipient means every
/// connection of the recipient refused it (closing, or its outbox full).
/// </param>
/// <param name="Local">The recipient's connections on this node (so the sender's own copies skip them).</param>
internal readonly record struct DirectDelivery(string? Recipient, int Queued, ChatConnection[] Local)
{
    public static DirectDelivery Nobody => new(null, 0, []);
}

internal enum ClaimOutcome
{
    Claimed,
    Taken,
    Unavailable,
}
