using ChatHub.Server.Connections;

namespace ChatHub.Server.Rooms;

/// <summary>
/// Remembers, per room, which (name, ref) pairs were said in the last <see cref="Lifetime"/> and under which seq,
/// so a resent <c>say</c> gets the first one's ack instead of being stored twice. Owned by one RoomActor.
/// </summary>
internal sealed class RefDeduplicator(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly Dictionary<(string Name, string Ref), Entry> _entries = new(KeyComparer.Instance);
    private readonly Queue<((string Name, string Ref) Key, DateTimeOffset Expires)> _expiry = new();

    public bool TryGet(string name, string reference, out Entry entry)
    {
        Expire();
        return _entries.TryGetValue((name, reference), out entry!);
    }

    public Entry Remember(string name, string reference, long seq, DateTimeOffset saidAt)
    {
        var key = (name, reference);
        var entry = new Entry(seq, saidAt + Lifetime);
        _entries[key] = entry;
        _expiry.Enqueue((key, entry.Expires));
        return entry;
    }

    /// <summary>Forgets a ref whose message was not delivered after all, so that its resend is not taken for a duplicate.</summary>
    public void Forget(string name, string reference) => _entries.Remove((name, reference));

    private void Expire()
    {
        var now = clock.GetUtcNow();
        while (_expiry.TryPeek(out var head) && head.Expires <= now)
        {
            _expiry.Dequeue();
            // A key said again after expiring has a newer entry; only its own expiry may remove it.
            if (_entries.TryGetValue(head.Key, out var entry) && entry.Expires == head.Expires)
            {
                _entries.Remove(head.Key);
            }
        }
    }

    internal sealed class Entry(long seq, DateTimeOffset expires)
    {
        public long Seq { get; } = seq;

        public DateTimeOffset Expires { get; } = expires;

        /// <summary>Senders of the same ref that arrived while the first was still being stored.</summary>
        public List<ChatConnection>? Waiters { get; set; }
    }

    /// <summary>Names compare without case, as everywhere in the protocol; refs compare exactly.</summary>
    private sealed class KeyComparer : IEqualityComparer<(string Name, string Ref)>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals((string Name, string Ref) x, (string Name, string Ref) y) =>
            string.Equals(x.Ref, y.Ref, StringComparison.Ordinal) && string.Equals(x.Name, y.Name, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((string Name, string Ref) key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Name), StringComparer.Ordinal.GetHashCode(key.Ref));
    }
}
