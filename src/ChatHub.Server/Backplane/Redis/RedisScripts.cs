namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// The Lua scripts: each is one atomic step on one shard, sent as EVALSHA (StackExchange.Redis caches the
/// hash and falls back to EVAL once per connection). Payload formats are in <see cref="BusPayload"/>.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// One <c>say</c>: ref seen? return minus its seq. Else next seq, XADD (ID <c>seq-0</c>, MAXLEN window),
    /// remember the ref, list the room, PUBLISH the message; return the seq. All or nothing, one round trip.
    /// KEYS: seq, log, ref, rooms. ARGV: from, text, ts (ms), ref ('' for none), window, ref lifetime (ms), channel, room.
    /// </summary>
    public const string Append = """
        if ARGV[4] ~= '' then
          local earlier = redis.call('GET', KEYS[3])
          if earlier then return -tonumber(earlier) end
        end
        local seq = redis.call('INCR', KEYS[1])
        redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], seq .. '-0', 'f', ARGV[1], 't', ARGV[2], 'ts', ARGV[3], 'r', ARGV[4])
        if ARGV[4] ~= '' then redis.call('SET', KEYS[3], seq, 'PX', ARGV[6]) end
        redis.call('SADD', KEYS[4], ARGV[8])
        redis.call('PUBLISH', ARGV[7], 'm' .. seq .. '\n' .. ARGV[3] .. '\n' .. ARGV[1] .. '\n' .. ARGV[2])
        return seq
        """;

    /// <summary>The last seq and the newest messages, read together so they agree. KEYS: seq, log. ARGV: limit.</summary>
    public const string Load = """
        return {redis.call('GET', KEYS[1]) or '0', redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[1])}
        """;

    /// <summary>
    /// Sets this node's connection count for up to two names in a room (two: a rename) and keeps the cluster-wide
    /// counts in step; a name whose total goes from 0 is a join, to 0 a leave, both at once a rename. Idempotent,
    /// so a node can re-assert its members after Redis comes back. Returns {changed, members}.
    /// KEYS: members, node members, node rooms, rooms, seq. ARGV: room, node, connection, channel, name1, count1, name2 ('' for none), count2.
    /// </summary>
    public const string SetMembers = """
        local function set(name, n)
          local old = tonumber(redis.call('HGET', KEYS[2], name) or '0')
          if n > 0 then redis.call('HSET', KEYS[2], name, n) else redis.call('HDEL', KEYS[2], name) end
          local delta = n - old
          if delta == 0 then return 0 end
          local total = redis.call('HINCRBY', KEYS[1], name, delta)
          if total <= 0 then redis.call('HDEL', KEYS[1], name) end
          local before = total - delta
          if before <= 0 and total > 0 then return 1 end
          if before > 0 and total <= 0 then return -1 end
          return 0
        end
        local a = set(ARGV[5], tonumber(ARGV[6]))
        local b = 0
        if ARGV[7] ~= '' then b = set(ARGV[7], tonumber(ARGV[8])) end
        if redis.call('HLEN', KEYS[2]) > 0 then redis.call('SADD', KEYS[3], ARGV[1]) else redis.call('SREM', KEYS[3], ARGV[1]) end
        local count = redis.call('HLEN', KEYS[1])
        if count > 0 then redis.call('SADD', KEYS[4], ARGV[1])
        elseif redis.call('EXISTS', KEYS[5]) == 0 then redis.call('SREM', KEYS[4], ARGV[1]) end
        local tail = '\n' .. ARGV[2] .. '\n' .. ARGV[3] .. '\n' .. count
        if a == -1 and b == 1 then
          redis.call('PUBLISH', ARGV[4], 'prename\n' .. ARGV[5] .. '\n' .. ARGV[7] .. tail)
        else
          if a ~= 0 then redis.call('PUBLISH', ARGV[4], 'p' .. (a == 1 and 'join' or 'leave') .. '\n' .. ARGV[5] .. '\n' .. tail) end
          if b ~= 0 then redis.call('PUBLISH', ARGV[4], 'p' .. (b == 1 and 'join' or 'leave') .. '\n' .. ARGV[7] .. '\n' .. tail) end
        end
        local changed = 0
        if a ~= 0 or b ~= 0 then changed = 1 end
        return {changed, redis.call('HKEYS', KEYS[1])}
        """;

    /// <summary>Rooms of this shard that exist, with member counts: {room, count, ...}. KEYS: rooms. ARGV: key prefix.</summary>
    public const string ListRooms = """
        local out = {}
        for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local tag = ARGV[1] .. '{' .. room .. '}'
          local n = redis.call('HLEN', tag .. ':members')
          if n > 0 or redis.call('EXISTS', tag .. ':seq') == 1 then
            table.insert(out, room)
            table.insert(out, n)
          end
        end
        return out
        """;

    /// <summary>
    /// Claims a name for this node unless another node holds it, or both this claim and every other holder share it
    /// (devices of one token user: the holder value starts with '1'). KEYS: name, node names.
    /// ARGV: node, holder value ('1Name' sharing, '0Name' not), lower name.
    /// </summary>
    public const string Claim = """
        local sharing = string.sub(ARGV[2], 1, 1) == '1'
        local held = redis.call('HGETALL', KEYS[1])
        for i = 1, #held, 2 do
          if held[i] ~= ARGV[1] and not (sharing and string.sub(held[i + 1], 1, 1) == '1') then return 0 end
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        return 1
        """;

    /// <summary>Frees this node's hold on a name (other nodes' holds stay). KEYS: name, node names. ARGV: node, lower name.</summary>
    public const string Release = """
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        return 1
        """;

    /// <summary>
    /// Routes a DM to every node holding the name but the sender's own (which delivered it already); returns
    /// {Name, nodes published to}, or nil when no other node holds it. KEYS: name. ARGV: node channel prefix, payload, sender's node.
    /// </summary>
    public const string Direct = """
        local held = redis.call('HGETALL', KEYS[1])
        local name = false
        local sent = 0
        for i = 1, #held, 2 do
          if held[i] ~= ARGV[3] then
            name = string.sub(held[i + 1], 2)
            redis.call('PUBLISH', ARGV[1] .. held[i], ARGV[2])
            sent = sent + 1
          end
        end
        if not name then return false end
        return {name, sent}
        """;

    /// <summary>
    /// Renews this node's heartbeat (by Redis's clock) and removes every node whose heartbeat ran out: frees its
    /// names and takes its members out of their rooms with a published leave. Atomic, so any number of
    /// survivors may run it at once. Returns 1 if this node was not listed (its first beat, or the others removed it
    /// as dead), else 0, followed by the dead nodes. KEYS: nodes. ARGV: node, lifetime (ms), key prefix.
    /// </summary>
    public const string Heartbeat = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        local p = ARGV[3]
        for _, d in ipairs(dead) do
          local namesKey = p .. 'node:' .. d .. ':names'
          for _, lower in ipairs(redis.call('SMEMBERS', namesKey)) do
            redis.call('HDEL', p .. 'name:' .. lower, d)
          end
          redis.call('DEL', namesKey)
          local roomsKey = p .. 'node:' .. d .. ':rooms'
          for _, room in ipairs(redis.call('SMEMBERS', roomsKey)) do
            local tag = p .. '{' .. room .. '}'
            local nodeKey = tag .. ':node:' .. d
            local held = redis.call('HGETALL', nodeKey)
            for i = 1, #held, 2 do
              local total = redis.call('HINCRBY', tag .. ':members', held[i], -tonumber(held[i + 1]))
              if total <= 0 then
                redis.call('HDEL', tag .. ':members', held[i])
                redis.call('PUBLISH', tag, 'pleave\n' .. held[i] .. '\n\n' .. d .. '\n0\n' .. redis.call('HLEN', tag .. ':members'))
              end
            end
            redis.call('DEL', nodeKey)
            if redis.call('HLEN', tag .. ':members') == 0 and redis.call('EXISTS', tag .. ':seq') == 0 then
              redis.call('SREM', p .. 'rooms', room)
            end
          end
          redis.call('DEL', roomsKey)
          redis.call('ZREM', KEYS[1], d)
        end
        table.insert(dead, 1, added)
        return dead
        """;

    /// <summary>
    /// Makes this shard's record of the node's names what the node really holds (after Redis was away): drops
    /// names it no longer holds, re-claims the rest (by <see cref="Claim"/>'s rule), returns those another node took
    /// meanwhile. KEYS: node names. ARGV: node, key prefix, then lower name, holder value ('1Name' / '0Name') pairs.
    /// </summary>
    public const string ResyncNames = """
        local held = {}
        for i = 3, #ARGV, 2 do held[ARGV[i]] = ARGV[i + 1] end
        for _, lower in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if not held[lower] then
            redis.call('HDEL', ARGV[2] .. 'name:' .. lower, ARGV[1])
            redis.call('SREM', KEYS[1], lower)
          end
        end
        local lost = {}
        for lower, value in pairs(held) do
          local k = ARGV[2] .. 'name:' .. lower
          local sharing = string.sub(value, 1, 1) == '1'
          local taken = false
          local others = redis.call('HGETALL', k)
          for i = 1, #others, 2 do
            if others[i] ~= ARGV[1] and not (sharing and string.sub(others[i + 1], 1, 1) == '1') then taken = true end
          end
          if taken then
            redis.call('HDEL', k, ARGV[1])
            table.insert(lost, lower)
          else
            redis.call('HSET', k, ARGV[1], value)
            redis.call('SADD', KEYS[1], lower)
          end
        end
        return lost
        """;
}
