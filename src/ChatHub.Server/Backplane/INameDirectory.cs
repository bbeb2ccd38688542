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
    /// Delivers a DM to the connection holding <see cref="DmEvent.To"/> (matched without case) wherever it is.
    /// Returns the recipient's name as it holds it, or null when nobody holds it.
    /// </summary>
    ValueTask<string?> SendDirectAsync(DmEvent dm);

    /// <summary>This node's connection holding the name, if any.</summary>
    ChatConnection? FindLocal(string name);
}

internal enum ClaimOutcome
{
    Claimed,
    Taken,
    Unavailable,
}
