using System.Globalization;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using ChatHub.Server.Rooms;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// The cluster's room log: each append is one <see cref="RedisScripts.Append"/> on the room's shard (ref dedup,
/// next seq, XADD trimmed to the window, PUBLISH), so the seq is gapless across nodes and the stream and the
/// publish agree. The answer comes when Redis has run the script: what an ack then means depends on Redis's
/// persistence (docs/cluster.md).
/// </summary>
internal sealed partial class RedisRoomLog(RedisShards shards, IOptions<ChatHubOptions> options, ILogger<RedisRoomLog> logger) : IRoomLog
{
    private readonly string _window = options.Value.Storage.HistoryWindow.ToString(CultureInfo.InvariantCulture);
    private readonly string _refLifetime = ((long)RefDeduplicator.Lifetime.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    public bool IsHealthy => shards.IsConnected;

    public Task InitializeAsync(CancellationToken cancellationToken) => shards.ConnectAsync();

    public void Append(AppendRequest request, IAppendCallback callback)
    {
        string room = request.Room;
        var keys = new RedisKey[]
        {
            RedisKeys.Seq(room), RedisKeys.Log(room),
            request.Ref is null ? RedisKeys.Seq(room) : RedisKeys.Ref(room, request.From, request.Ref), RedisKeys.Rooms,
        };
        var values = new RedisValue[]
        {
            request.From, request.Text, request.Timestamp.ToUnixTimeMilliseconds(), request.Ref ?? "", _window, _refLifetime,
            RedisKeys.RoomChannelName(room), room,
        };

        Task<RedisResult> script;
        try
        {
            script = shards.Database(shards.ForRoom(room)).ScriptEvaluateAsync(RedisScripts.Append, keys, values);
        }
        catch (Exception e)
        {
            script = Task.FromException<RedisResult>(e);
        }

        _ = CompleteAsync(request, callback, script);
    }

    private async Task CompleteAsync(AppendRequest request, IAppendCallback callback, Task<RedisResult> script)
    {
        AppendResult result;
        try
        {
            long seq = (long)await script;
            result = seq > 0 ? new AppendResult(AppendOutcome.Stored, seq) : new AppendResult(AppendOutcome.Duplicate, -seq);
        }
        catch (Exception e)
        {
            // A timeout may hide a script that did run: the client's resend with the same ref then gets its ack.
            LogAppendFailed(logger, e, request.Room);
            result = AppendResult.Unavailable;
        }

        callback.OnAppended(request, result);
    }

    public async Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken)
    {
        var db = shards.Database(shards.ForRoom(room));
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(RedisScripts.Load,
            [RedisKeys.Seq(room), RedisKeys.Log(room)], [limit]))!;
        long lastSeq = long.Parse((string)result[0]!, CultureInfo.InvariantCulture);
        var entries = (RedisResult[])result[1]!;
        var messages = new ChatMessage[entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = (RedisResult[])entries[i]!;
            messages[entries.Length - 1 - i] = ToMessage(room, (string)entry[0]!, (RedisResult[])entry[1]!);
        }

        return new RoomHistory(messages, lastSeq);
    }

    public async Task<IReadOnlyList<ChatMessage>> ReadAfterAsync(string room, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        var db = shards.Database(shards.ForRoom(room));
        var entries = await db.StreamRangeAsync(RedisKeys.Log(room), $"{afterSeq + 1}-0", "+", limit);
        return entries.Select(entry => ToMessage(room, entry)).ToArray();
    }

    /// <summary>
    /// Reads every shard's set of room names (SMEMBERS: the whole set, not paged in Redis), then the seqs of the
    /// page's rooms only.
    /// </summary>
    public async Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var names = new List<(string Room, int Shard)>();
        for (int shard = 0; shard < shards.Count; shard++)
        {
            foreach (var room in await shards.Database(shard).SetMembersAsync(RedisKeys.Rooms))
            {
                string name = room!;
                if (after is null || string.CompareOrdinal(name, after) > 0)
                {
                    names.Add((name, shard));
                }
            }
        }

        names.Sort(static (a, b) => string.CompareOrdinal(a.Room, b.Room));
        var rooms = new List<StoredRoom>(Math.Min(limit, names.Count));
        foreach (var (room, shard) in names)
        {
            if (rooms.Count == limit)
            {
                break;
            }

            var seq = await shards.Database(shard).StringGetAsync(RedisKeys.Seq(room));
            if (seq.HasValue)
            {
                rooms.Add(new StoredRoom(room, (long)seq));
            }
        }

        return rooms;
    }

    /// <summary>Nothing per room is kept in this process: Redis holds it all.</summary>
    public void Release(string room)
    {
    }

    /// <summary>Every append is answered by Redis itself; nothing waits here to be written.</summary>
    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static ChatMessage ToMessage(string room, StreamEntry entry) =>
        new(room, SeqOf(entry.Id!), entry["f"]!, entry["t"]!,
            DateTimeOffset.FromUnixTimeMilliseconds((long)entry["ts"]), NullIfEmpty(entry["r"]));

    private static ChatMessage ToMessage(string room, string id, RedisResult[] fields)
    {
        string from = "", text = "";
        string? reference = null;
        long ms = 0;
        for (int i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string)fields[i]!)
            {
                case "f": from = (string)fields[i + 1]!; break;
                case "t": text = (string)fields[i + 1]!; break;
                case "ts": ms = (long)fields[i + 1]; break;
                case "r": reference = NullIfEmpty((string?)fields[i + 1]); break;
            }
        }

        return new ChatMessage(room, SeqOf(id), from, text, DateTimeOffset.FromUnixTimeMilliseconds(ms), reference);
    }

    private static long SeqOf(string id) => long.Parse(id.AsSpan(0, id.IndexOf('-')), CultureInfo.InvariantCulture);

    private static string? NullIfEmpty(RedisValue value) => value.IsNullOrEmpty ? null : (string?)value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {Room}: appending to Redis failed; the sender hears unavailable")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string room);
}
