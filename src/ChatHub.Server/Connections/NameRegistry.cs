using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ChatHub.Server.Connections;

/// <summary>
/// Who holds which name, compared without case. Claims are atomic, so two clients racing for a name cannot both
/// win. A name belongs to one connection at a time and is free again when that connection lets it go, except for
/// a user on several devices: connections whose name came from a verified token (<see cref="ChatConnection.SharesName"/>)
/// may all hold their name at once, and it is free again when the last of them lets it go. A claim that does not
/// share never joins a held name, and a sharing claim never joins a name held by one that does not.
/// </summary>
internal sealed class NameRegistry
{
    private const string GuestAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    // The value is the one holder (a ChatConnection) or, for a user on several devices, an immutable
    // ChatConnection[] of two or more that all share; a name held once costs no array. Replaced by compare-and-swap.
    private readonly ConcurrentDictionary<string, object> _owners = new(StringComparer.OrdinalIgnoreCase);

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

    /// <summary>Every connection holding the name (several for a user on several devices); empty when nobody does.</summary>
    public ChatConnection[] Find(string name) => _owners.TryGetValue(name, out var current) ? Holders(current) : [];

    /// <summary>Claims a fresh <c>guest-xxxxxx</c> name; six random characters make collisions rare, and a retry handles them.</summary>
    public string ClaimGuestName(ChatConnection owner)
    {
        while (true)
        {
            string name = "guest-" + RandomNumberGenerator.GetString(GuestAlphabet, 6);
            if (_owners.TryAdd(name, owner))
            {
                return name;
            }
        }
    }

    private static ChatConnection[] Holders(object value) => value as ChatConnection[] ?? [(ChatConnection)value];

    /// <summary>The holders but one: a lone connection again when one is left.</summary>
    private static object Without(ChatConnection[] holders, ChatConnection owner)
    {
        var rest = holders.Where(h => !ReferenceEquals(h, owner)).ToArray();
        return rest.Length == 1 ? rest[0] : rest;
    }
}
