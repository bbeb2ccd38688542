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
        var subscription = new Subscription(sink, queue, _shards.ForRoom(room));
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

    private sealed record Subscription(IRoomSink Sink, ChannelMessageQueue Queue, int Shard);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unsubscribing a room failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {Room}: an unreadable message on its channel was dropped")]
    private static partial void LogBadPayload(ILogger logger, Exception exception, string room);
}
