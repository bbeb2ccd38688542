using System.Collections.Concurrent;
using System.Security.Cryptography;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane.Local;

/// <summary>
/// Who holds which name on this node, compared without case. A name belongs to one connection at a time and is
/// free again when that connection lets it go; claims are atomic, so two clients racing for a name cannot both
/// win. The cluster's directory keeps one of these for its own connections.
/// </summary>
internal sealed class LocalNameDirectory : INameDirectory
{
    private const string GuestAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly ConcurrentDictionary<string, ChatConnection> _owners = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Six random characters make collisions rare; a retry handles them.</summary>
    public static string NewGuestName() => "guest-" + RandomNumberGenerator.GetString(GuestAlphabet, 6);

    public bool TryClaim(string name, ChatConnection owner) =>
        _owners.TryAdd(name, owner) || (_owners.TryGetValue(name, out var current) && ReferenceEquals(current, owner));

    public ValueTask<ClaimOutcome> TryClaimAsync(string name, ChatConnection owner) =>
        ValueTask.FromResult(TryClaim(name, owner) ? ClaimOutcome.Claimed : ClaimOutcome.Taken);

    public void Release(string name, ChatConnection owner) =>
        _owners.TryRemove(new KeyValuePair<string, ChatConnection>(name, owner));

    public ChatConnection? FindLocal(string name) => _owners.TryGetValue(name, out var owner) ? owner : null;

    /// <summary>Every name held here with its connection (for re-asserting them in a shared directory).</summary>
    public IEnumerable<KeyValuePair<string, ChatConnection>> All => _owners;

    public ValueTask<string> ClaimGuestNameAsync(ChatConnection owner)
    {
        while (true)
        {
            string name = NewGuestName();
            if (_owners.TryAdd(name, owner))
            {
                return ValueTask.FromResult(name);
            }
        }
    }

    public ValueTask<string?> SendDirectAsync(DmEvent dm) => ValueTask.FromResult(DeliverLocally(dm));

    /// <summary>Queues the DM to this node's holder of the name; its name as held, or null.</summary>
    public string? DeliverLocally(DmEvent dm)
    {
        if (FindLocal(dm.To) is not { } recipient)
        {
            return null;
        }

        string to = recipient.Name;
        recipient.Send(string.Equals(to, dm.To, StringComparison.Ordinal) ? dm : new DmEvent(dm.From, to, dm.Text, dm.Timestamp));
        return to;
    }
}
