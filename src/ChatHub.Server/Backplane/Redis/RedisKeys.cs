using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// Every key and channel the cluster uses. A room's keys share the hash tag <c>{room}</c>, so they would stay
/// together on one slot of a Redis Cluster too; each script touches the keys of one room (or one name) only.
/// </summary>
internal static class RedisKeys
{
    private const string Prefix = "chathub:";

    /// <summary>STRING: the room's last seq (outlives trimmed messages).</summary>
    public static RedisKey Seq(string room) => $"{Prefix}{{{room}}}:seq";

    /// <summary>STREAM: the kept messages, entry ID <c>seq-0</c>, trimmed to the history window.</summary>
    public static RedisKey Log(string room) => $"{Prefix}{{{room}}}:log";

    /// <summary>STRING with expiry: the seq a (name, ref) pair was stored under.</summary>
    public static RedisKey Ref(string room, string name, string reference) =>
        $"{Prefix}{{{room}}}:ref:{name.ToLowerInvariant()}:{reference}";

    /// <summary>HASH name → connections in the room, cluster-wide.</summary>
    public static RedisKey Members(string room) => $"{Prefix}{{{room}}}:members";

    /// <summary>HASH name → connections of one node in the room: what the survivors take out when it dies.</summary>
    public static RedisKey NodeMembers(string room, string node) => $"{Prefix}{{{room}}}:node:{node}";

    /// <summary>Pub/sub channel of a room: its messages and presence, in the order they were made.</summary>
    public static RedisChannel RoomChannel(string room) => RedisChannel.Literal($"{Prefix}{{{room}}}");

    public static string RoomChannelName(string room) => $"{Prefix}{{{room}}}";

    /// <summary>SET (per shard): rooms that exist there (members or history).</summary>
    public static RedisKey Rooms => $"{Prefix}rooms";

    /// <summary>
    /// HASH node → <c>1Name</c> / <c>0Name</c> (sharing or not) of the nodes holding a name (by its lower-case form):
    /// one field, or several for a token user's devices on several nodes.
    /// </summary>
    public static RedisKey Name(string lowerName) => $"{Prefix}name:{lowerName}";

    /// <summary>ZSET (per shard): node → when its heartbeat runs out (Redis time, ms).</summary>
    public static RedisKey Nodes => $"{Prefix}nodes";

    /// <summary>SET (per shard): the names a node holds there.</summary>
    public static RedisKey NodeNames(string node) => $"{Prefix}node:{node}:names";

    /// <summary>SET (per shard): the rooms where a node has members there.</summary>
    public static RedisKey NodeRooms(string node) => $"{Prefix}node:{node}:rooms";

    /// <summary>Pub/sub channel of a node: DMs for its connections.</summary>
    public static RedisChannel NodeChannel(string node) => RedisChannel.Literal($"{Prefix}node:{node}");
}
