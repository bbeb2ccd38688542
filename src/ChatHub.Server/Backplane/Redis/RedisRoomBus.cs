using System.Collections.Concurrent;
using ChatHub.Server.Protocol;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// Redis pub/sub, one channel per room, subscribed only while this node has an actor for the room (i.e. local
/// members). Each channel's messages are handed on in the order Redis sent them (a <see cref="ChannelMessageQueue"/>
/// is read one message at a time). Pub/sub loses what is published while a link is down: when a link comes
/// back every room hears <see cref="IRoomSink.OnResumed"/> and reads the stream after its last seq.
/// </summary>
internal sealed partial class RedisRoomBus : IRoomBus
{
    private readonly ConcurrentDictionary<string, Subscription> _rooms = new(StringComparer.Ordinal);
    private readonly RedisShards _shards;
    private readonly ILogger<RedisRoomBus> _logger;

    public RedisRoomBus(RedisShards shards, ILogger<RedisRoomBus> logger)
    {
        _shards = shards;
        _logger = logger;
        shards.Restored += OnRestored;
    }

    /// <summary>For tests: drop the next published message of a room on this node, as a lossy link would.</summary>
    internal int DropNextMessages;

    public async Task SubscribeAsync(string room, IRoomSink sink, CancellationToken cancellationToken)
    {
        var queue = await _shards.Subscriber(_shards.ForRoom(room)).SubscribeAsync(RedisKeys.RoomChannel(room));
        var subscription = new Subscription(room, sink, queue, _shards.ForRoom(room));
        _rooms[room] = subscription;
        queue.OnMessage(message => Dispatch(room, sink, message.Message));
    }

    public void Unsubscribe(string room, IRoomSink sink)
    {
        if (_rooms.TryGetValue(room, out var subscription) && ReferenceEquals(subscription.Sink, sink)
            && _rooms.TryRemove(new KeyValuePair<string, Subscription>(room, subscription)))
        {
            _ = UnsubscribeAsync(subscription.Queue);
        }
    }

    private async Task UnsubscribeAsync(ChannelMessageQueue queue)
    {
        try
        {
            await queue.UnsubscribeAsync();
        }
        catch (Exception e)
        {
            // The link is down; Redis forgets the subscription with the connection anyway.
            LogUnsubscribeFailed(_logger, e);
        }
    }

    private void Dispatch(string room, IRoomSink sink, RedisValue value)
    {
        try
        {
            string payload = value!;
            if (payload.Length == 0)
            {
                return;
            }

            if (payload[0] == 'm')
            {
                if (DropNextMessages > 0 && Interlocked.Decrement(ref DropNextMessages) >= 0)
                {
                    return;
                }

                sink.OnMessage(BusPayload.ParseMessage(room, payload));
            }
            else if (payload[0] == 'p')
            {
                sink.OnPresence(BusPayload.ParsePresence(payload));
            }
        }
        catch (Exception e)
        {
            LogBadPayload(_logger, e, room);
        }
    }

    private void OnRestored(int shard)
    {
        Resume(shard);
        // Once more a moment later: the restored link may still be re-subscribing when the first catch-up reads,
        // and a message published in between would otherwise wait for the room's next one.
        _ = ResumeLaterAsync(shard);
    }

    private async Task ResumeLaterAsync(int shard)
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        Resume(shard);
    }

    private void Resume(int shard)
    {
        foreach (var subscription in _rooms.Values)
        {
            if (subscription.Shard == shard)
            {
                subscription.Sink.OnResumed();
            }
        }
    }

    /// <summary>
    /// A lost publish shows as a gap when the room's next message arrives; the last message of a conversation has
    /// no next one. So, once per heartbeat, the node reads the seq of every room it subscribes to (one MGET per
    /// shard and batch) and a room that has still not delivered a seq Redis already had at the previous check
    /// reads the stream. Waiting one whole interval keeps messages that are merely on their way from causing reads.
    /// </summary>
    public async Task CatchUpQuietRoomsAsync()
    {
        foreach (var shardRooms in _rooms.Values.GroupBy(s => s.Shard))
        {
            foreach (var batch in shardRooms.Chunk(QuietCheckBatch))
            {
                var seqs = await _shards.Database(shardRooms.Key).StringGetAsync(batch.Select(s => (RedisKey)RedisKeys.Seq(s.Room)).ToArray());
                for (int i = 0; i < batch.Length; i++)
                {
                    var subscription = batch[i];
                    long stored = seqs[i].TryParse(out long seq) ? seq : 0;
                    if (subscription.Sink.LastSeq < Math.Min(stored, subscription.SeenSeq))
                    {
                        LogQuietRoomBehind(_logger, subscription.Room, subscription.Sink.LastSeq, stored);
                        subscription.Sink.OnResumed();
                    }

                    subscription.SeenSeq = stored;
                }
            }
        }
    }

    private const int QuietCheckBatch = 1000;

    private sealed class Subscription(string room, IRoomSink sink, ChannelMessageQueue queue, int shard)
    {
        public string Room { get; } = room;

        public IRoomSink Sink { get; } = sink;

        public ChannelMessageQueue Queue { get; } = queue;

        public int Shard { get; } = shard;

        /// <summary>The room's seq in Redis at the previous check; written by the heartbeat loop only.</summary>
        public long SeenSeq { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Room {Room}: delivered up to {Delivered} while Redis has {Stored} since the last check; reading the stream (a lost publish)")]
    private static partial void LogQuietRoomBehind(ILogger logger, string room, long delivered, long stored);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unsubscribing a room failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {Room}: an unreadable message on its channel was dropped")]
    private static partial void LogBadPayload(ILogger logger, Exception exception, string room);
}
