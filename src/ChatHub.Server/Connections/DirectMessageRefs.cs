using ChatHub.Server.Rooms;

namespace ChatHub.Server.Connections;

/// <summary>
/// The DM counterpart of a room's ref dedup: a <c>dm</c> that repeats a ref its sender's name used in the last
/// ten minutes is acked again but not delivered again, so a client that resends what was not acked before a
/// reconnect never makes the other person read it twice. docs/protocol.md promises this for <c>say</c>; ChatHub keeps
/// the same promise for <c>dm</c>. It is the rooms' <see cref="RefDeduplicator"/>, shared by all connections
/// (a resend comes on a new connection), so it locks; the lock is held for a dictionary probe, never across an await.
/// </summary>
internal sealed class DirectMessageRefs(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly RefDeduplicator _refs = new(clock);

    /// <summary>True the first time (name, ref) is offered within the lifetime: deliver it. False: a resend.</summary>
    public bool TryRecord(string name, string reference)
    {
        lock (_gate)
        {
            if (_refs.TryGet(name, reference, out _))
            {
                return false;
            }

            _refs.Remember(name, reference, seq: 0, clock.GetUtcNow());
            return true;
        }
    }

    /// <summary>Forgets a ref whose DM was not delivered (nobody had the name), so a resend is tried again.</summary>
    public void Forget(string name, string reference)
    {
        lock (_gate)
        {
            _refs.Forget(name, reference);
        }
    }
}
