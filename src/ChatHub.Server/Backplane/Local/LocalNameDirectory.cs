using System.Collections.Concurrent;
using System.Security.Cryptography;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane.Local;

/// <summary>
/// Who holds which name on this node, compared without case. Claims are atomic, so two clients racing for a name
/// cannot both win. A name belongs to one connection at a time and is free again when that connection lets it go,
/// except for a user on several devices: connections whose name came from a verified token
/// (<see cref="ChatConnection.SharesName"/>) may all hold their name at once, and it is free again when the last of
/// them lets it go. A claim that does not share never joins a held name, and a sharing claim never joins a name
/// held by one that does not. The cluster's directory keeps one of these for its own connections.
/// </summary>
internal sealed class LocalNameDirectory : INameDirectory
{
    private const string GuestAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    // The value is the one holder (a ChatConnection) or, for a user on several devices, an immutable
    // ChatConnection[] of two or more that all share; a name held once costs no array. Replaced by compare-and-swap.
    private readonly ConcurrentDictionary<string, object> _owners = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Six random characters make collisions rare; a retry handles them.</summary>
    public static string NewGuestName() => "guest-" + RandomNumberGenerator.GetString(GuestAlphabet, 6);

    public bool TryClaim(string name, ChatConnection owner)
    {
        while (true)
        {
            if (_owners.TryAdd(name, owner))
            {
                return true;
            }

            if (!_owners.TryGetValue(name, out var current))
            {
                continue; // released meanwhile
            }

            var holders = Holders(current);
            if (Array.IndexOf(holders, owner) >= 0)
            {
                return true;
            }

            if (!owner.SharesName || !holders[0].SharesName)
            {
                return false;
            }

            if (_owners.TryUpdate(name, (ChatConnection[])[.. holders, owner], current))
            {
                return true;
            }
        }
    }

    public ValueTask<ClaimOutcome> TryClaimAsync(string name, ChatConnection owner) =>
        ValueTask.FromResult(TryClaim(name, owner) ? ClaimOutcome.Claimed : ClaimOutcome.Taken);

    public void Release(string name, ChatConnection owner)
    {
        while (_owners.TryGetValue(name, out var current))
        {
            var holders = Holders(current);
            if (Array.IndexOf(holders, owner) < 0)
            {
                return;
            }

            bool done = holders.Length == 1
                ? _owners.TryRemove(new KeyValuePair<string, object>(name, current))
                : _owners.TryUpdate(name, Without(holders, owner), current);
            if (done)
            {
                return;
            }
        }
    }

    public ChatConnection[] FindLocal(string name) => _owners.TryGetValue(name, out var current) ? Holders(current) : [];

    /// <summary>Every name held here with one of its connections (for re-asserting them in a shared directory).</summary>
    public IEnumerable<KeyValuePair<string, ChatConnection>> All =>
        _owners.Select(pair => new KeyValuePair<string, ChatConnection>(pair.Key, Holders(pair.Value)[0]));

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

    public ValueTask<DirectDelivery> SendDirectAsync(DmEvent dm) => ValueTask.FromResult(DeliverLocally(dm));

    /// <summary>Queues the DM to every connection of this node holding the name (a user on several devices gets it on each).</summary>
    public DirectDelivery DeliverLocally(DmEvent dm)
    {
        var recipients = FindLocal(dm.To);
        if (recipients.Length == 0)
        {
            return DirectDelivery.Nobody;
        }

        string to = recipients[0].Name;
        var delivered = string.Equals(to, dm.To, StringComparison.Ordinal) ? dm : new DmEvent(dm.From, to, dm.Text, dm.Timestamp);
        int queued = 0;
        foreach (var recipient in recipients)
        {
            queued += recipient.Send(delivered) ? 1 : 0;
        }

        return new DirectDelivery(to, queued, recipients);
    }

    private static ChatConnection[] Holders(object value) => value as ChatConnection[] ?? [(ChatConnection)value];

    /// <summary>The holders but one: a lone connection again when one is left.</summary>
    private static object Without(ChatConnection[] holders, ChatConnection owner)
    {
        var rest = holders.Where(h => !ReferenceEquals(h, owner)).ToArray();
        return rest.Length == 1 ? rest[0] : rest;
    }
}
