using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ChatHub.Server.Connections;

/// <summary>
/// Who holds which name, compared without case. A name belongs to one connection at a time and is free again
/// when that connection lets it go; claims are atomic, so two clients racing for a name cannot both win.
/// </summary>
internal sealed class NameRegistry
{
    private const string GuestAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly ConcurrentDictionary<string, ChatConnection> _owners = new(StringComparer.OrdinalIgnoreCase);

    public bool TryClaim(string name, ChatConnection owner) =>
        _owners.TryAdd(name, owner) || (_owners.TryGetValue(name, out var current) && ReferenceEquals(current, owner));

    public void Release(string name, ChatConnection owner) =>
        _owners.TryRemove(new KeyValuePair<string, ChatConnection>(name, owner));

    public ChatConnection? Find(string name) => _owners.TryGetValue(name, out var owner) ? owner : null;

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
}
