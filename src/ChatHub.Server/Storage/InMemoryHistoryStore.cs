using System.Collections.Concurrent;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Storage;

/// <summary>
/// Keeps each room's window in process memory: for tests and for load tests that measure the server, not
/// the disk. "Durable" here means "recorded", so acks come at once and never fail; nothing survives a restart.
/// </summary>
public sealed class InMemoryHistoryStore(IOptions<ChatHubOptions> options) : IHistoryStore
{
    private readonly int _window = options.Value.Storage.HistoryWindow;
    private readonly ConcurrentDictionary<string, RoomLog> _rooms = new(StringComparer.Ordinal);

    public bool IsHealthy => true;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredRoom> rooms = _rooms
            .Where(pair => after is null || string.CompareOrdinal(pair.Key, after) > 0)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(limit)
            .Select(pair => new StoredRoom(pair.Key, pair.Value.LastSeq))
            .ToList();
        return Task.FromResult(rooms);
    }

    public Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(_rooms.TryGetValue(room, out var log) ? log.Snapshot(limit) : RoomHistory.Empty);

    public void Append(ChatMessage message, IAppendCompletion completion)
    {
        _rooms.GetOrAdd(message.Room, _ => new RoomLog()).Add(message, _window);
        completion.OnAppended(message);
    }

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>One room's messages. Appends for a room come from its one actor, but loads may run beside them.</summary>
    private sealed class RoomLog
    {
        private readonly Queue<ChatMessage> _messages = new();
        private readonly Lock _gate = new();

        public long LastSeq { get; private set; }

        public void Add(ChatMessage message, int window)
        {
            lock (_gate)
            {
                _messages.Enqueue(message);
                LastSeq = message.Seq;
                while (_messages.Count > window)
                {
                    _messages.Dequeue();
                }
            }
        }

        public RoomHistory Snapshot(int limit)
        {
            lock (_gate)
            {
                return new RoomHistory(_messages.Skip(Math.Max(0, _messages.Count - limit)).ToList(), LastSeq);
            }
        }
    }
}
