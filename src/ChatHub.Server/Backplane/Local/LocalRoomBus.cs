using System.Collections.Concurrent;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane.Local;

/// <summary>One node's bus: a stored message or a presence change goes straight to the room's actor.</summary>
internal sealed class LocalRoomBus : IRoomBus
{
    private readonly ConcurrentDictionary<string, IRoomSink> _sinks = new(StringComparer.Ordinal);

    public Task SubscribeAsync(string room, IRoomSink sink, CancellationToken cancellationToken)
    {
        _sinks[room] = sink;
        return Task.CompletedTask;
    }

    public void Unsubscribe(string room, IRoomSink sink) => _sinks.TryRemove(new KeyValuePair<string, IRoomSink>(room, sink));

    public void PublishMessage(ChatMessage message)
    {
        if (_sinks.TryGetValue(message.Room, out var sink))
        {
            sink.OnMessage(message);
        }
    }

    public void PublishPresence(string room, PresenceChange change)
    {
        if (_sinks.TryGetValue(room, out var sink))
        {
            sink.OnPresence(change);
        }
    }
}
