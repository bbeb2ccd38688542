using ChatHub.Server.Protocol;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// Cluster-wide membership in Redis: per room a hash of name → connections (all nodes) and one per node
/// (what this node contributes, so survivors can take it out when it dies). This node remembers its own
/// counts, and every change sets its count absolutely (<see cref="RedisScripts.SetMembers"/>), so re-asserting
/// after Redis was away is the same call again. Changes for one (room, name) are sent in order under a lock,
/// and Redis runs them in that order.
/// </summary>
internal sealed class RedisRoomMembership(RedisShards shards, NodeIdentity node) : IRoomMembership
{
    private readonly Dictionary<(string Room, string Name), int> _local = new(RoomNameComparer.Instance);
    private readonly Lock _gate = new();

    public Task<MembershipResult> JoinAsync(string room, string name, long connectionId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            int count = _local.GetValueOrDefault((room, name)) + 1;
            _local[(room, name)] = count;
            return RunAsync(room, connectionId, name, count, null, 0);
        }
    }

    public Task<MembershipResult> LeaveAsync(string room, string name, long connectionId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            int count = Decrement(room, name);
            return RunAsync(room, connectionId, name, count, null, 0);
        }
    }

    public Task<MembershipResult> RenameAsync(string room, string oldName, string newName, long connectionId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            int oldCount = Decrement(room, oldName);
            int newCount = _local.GetValueOrDefault((room, newName)) + 1;
            _local[(room, newName)] = newCount;
            return RunAsync(room, connectionId, oldName, oldCount, newName, newCount);
        }
    }

    public async Task<IReadOnlyList<string>> MembersAsync(string room, CancellationToken cancellationToken)
    {
        var names = (await shards.Database(shards.ForRoom(room)).HashKeysAsync(RedisKeys.Members(room)))
            .Select(name => (string)name!)
            .ToArray();
        Array.Sort(names, StringComparer.OrdinalIgnoreCase);
        return names;
    }

    /// <summary>
    /// Reads every shard's whole room list (one script per shard) and cuts the page from it here: paging saves
    /// the reply, not Redis's work, so a cluster's room list costs in proportion to all its rooms.
    /// </summary>
    public async Task<RoomInfo[]> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var rooms = new List<RoomInfo>();
        for (int shard = 0; shard < shards.Count; shard++)
        {
            var flat = (RedisResult[])(await shards.Database(shard).ScriptEvaluateAsync(RedisScripts.ListRooms, [RedisKeys.Rooms], ["chathub:"]))!;
            for (int i = 0; i + 1 < flat.Length; i += 2)
            {
                rooms.Add(new RoomInfo((string)flat[i]!, (int)flat[i + 1]));
            }
        }

        rooms.Sort(static (a, b) => string.CompareOrdinal(a.Room, b.Room));
        return rooms.Where(r => after is null || string.CompareOrdinal(r.Room, after) > 0).Take(limit).ToArray();
    }

    /// <summary>
    /// After Redis was away: sets this node's counts again for every (room, name) it has, and zero for any the
    /// shard still records that it no longer has (a leave that failed while Redis was down).
    /// </summary>
    public async Task ResyncAsync(int shard)
    {
        Dictionary<(string Room, string Name), int> local;
        lock (_gate)
        {
            local = new Dictionary<(string Room, string Name), int>(_local, RoomNameComparer.Instance);
        }

        var db = shards.Database(shard);
        foreach (var roomValue in await db.SetMembersAsync(RedisKeys.NodeRooms(node.Id)))
        {
            string room = roomValue!;
            foreach (var held in await db.HashKeysAsync(RedisKeys.NodeMembers(room, node.Id)))
            {
                local.TryAdd((room, held!), 0);
            }
        }

        foreach (var ((room, name), count) in local)
        {
            if (shards.ForRoom(room) == shard)
            {
                await SetAsync(room, 0, name, count, null, 0);
            }
        }
    }

    private int Decrement(string room, string name)
    {
        int count = Math.Max(0, _local.GetValueOrDefault((room, name)) - 1);
        if (count == 0)
        {
            _local.Remove((room, name));
        }
        else
        {
            _local[(room, name)] = count;
        }

        return count;
    }

    private Task<MembershipResult> RunAsync(string room, long connectionId, string name, int count, string? other, int otherCount)
    {
        try
        {
            // Sent while the lock is held, so this (room, name)'s changes reach Redis in the order they were made.
            return SetAsync(room, connectionId, name, count, other, otherCount);
        }
        catch (Exception e)
        {
            return Task.FromException<MembershipResult>(e);
        }
    }

    private async Task<MembershipResult> SetAsync(string room, long connectionId, string name, int count, string? other, int otherCount)
    {
        var keys = new RedisKey[]
        {
            RedisKeys.Members(room), RedisKeys.NodeMembers(room, node.Id), RedisKeys.NodeRooms(node.Id), RedisKeys.Rooms, RedisKeys.Seq(room),
        };
        var values = new RedisValue[] { room, node.Id, connectionId, RedisKeys.RoomChannelName(room), name, count, other ?? "", otherCount };
        var result = (RedisResult[])(await shards.Database(shards.ForRoom(room)).ScriptEvaluateAsync(RedisScripts.SetMembers, keys, values))!;
        return new MembershipResult((long)result[0] == 1, ((RedisResult[])result[1]!).Select(r => (string)r!).ToArray());
    }

    /// <summary>Rooms compare exactly, names without case.</summary>
    private sealed class RoomNameComparer : IEqualityComparer<(string Room, string Name)>
    {
        public static readonly RoomNameComparer Instance = new();

        public bool Equals((string Room, string Name) x, (string Room, string Name) y) =>
            string.Equals(x.Room, y.Room, StringComparison.Ordinal) && string.Equals(x.Name, y.Name, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((string Room, string Name) key) =>
            HashCode.Combine(StringComparer.Ordinal.GetHashCode(key.Room), StringComparer.OrdinalIgnoreCase.GetHashCode(key.Name));
    }
}
