using System.Collections.Concurrent;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using ChatHub.Server.Rooms;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Backplane.Local;

/// <summary>
/// One node's room log: numbers messages and dedups refs in process, stores them through the
/// <see cref="IHistoryStore"/> (SQLite group commit, or memory) and, once the store reports a message durable,
/// publishes it on the <see cref="LocalRoomBus"/> and reports it stored. The store reports in append order, so
/// each room's messages are published in seq order.
/// </summary>
internal sealed class LocalRoomLog(IHistoryStore store, LocalRoomBus bus, IOptions<ChatHubOptions> options, TimeProvider clock) : IRoomLog
{
    private readonly ConcurrentDictionary<string, RoomSequencer> _rooms = new(StringComparer.Ordinal);
    private readonly int _window = options.Value.Storage.HistoryWindow;

    public bool IsHealthy => store.IsHealthy;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        // Rooms are not read here: each room's numbering starts from the store when its actor first loads it.
        await store.InitializeAsync(cancellationToken);
    }

    public void Append(AppendRequest request, IAppendCallback callback)
    {
        var room = _rooms.GetOrAdd(request.Room, static (_, self) => new RoomSequencer(self, 0), this);
        room.Append(request, callback);
    }

    public async Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken)
    {
        // The window is read whole the first time so that refs said before a restart are still recognised.
        var history = await store.LoadAsync(room, Math.Max(limit, _window), cancellationToken);
        var sequencer = _rooms.GetOrAdd(room, static (_, self) => new RoomSequencer(self, 0), this);
        sequencer.Seed(history);
        if (history.Messages.Count > limit)
        {
            history = new RoomHistory(history.Messages.Skip(history.Messages.Count - limit).ToList(), history.LastSeq);
        }

        return history;
    }

    public async Task<IReadOnlyList<ChatMessage>> ReadAfterAsync(string room, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        var history = await store.LoadAsync(room, _window, cancellationToken);
        return history.Messages.Where(m => m.Seq > afterSeq).Take(limit).ToList();
    }

    public Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken) =>
        store.ListRoomsAsync(after, limit, cancellationToken);

    /// <summary>The room's actor has retired: its numbering (and refs) are read from the store again when it returns.</summary>
    public void Release(string room)
    {
        if (_rooms.TryGetValue(room, out var sequencer) && sequencer.IsIdle)
        {
            _rooms.TryRemove(new KeyValuePair<string, RoomSequencer>(room, sequencer));
        }
    }

    public Task DrainAsync(CancellationToken cancellationToken) => store.DrainAsync(cancellationToken);

    /// <summary>
    /// One room's numbering. Appends come from the room's actor, completions from the store's writer; a lock
    /// (never held across an await or a store call that could wait) keeps the two apart.
    /// </summary>
    private sealed class RoomSequencer(LocalRoomLog owner, long lastSeq) : IAppendCompletion
    {
        private readonly Lock _gate = new();
        private readonly Queue<(AppendRequest Request, IAppendCallback Callback)> _unstored = new();
        private RefDeduplicator? _refs;
        private long _lastAssigned = lastSeq;
        private long _lastStored = lastSeq;
        private bool _seeded;

        /// <summary>Nothing waits for the store.</summary>
        public bool IsIdle
        {
            get
            {
                lock (_gate)
                {
                    return _unstored.Count == 0;
                }
            }
        }

        /// <summary>Takes seq and recent refs from the stored history, once.</summary>
        public void Seed(RoomHistory history)
        {
            lock (_gate)
            {
                if (_seeded)
                {
                    return;
                }

                _seeded = true;
                _lastAssigned = Math.Max(_lastAssigned, history.LastSeq);
                _lastStored = Math.Max(_lastStored, history.LastSeq);
                var since = owner.Clock.GetUtcNow() - RefDeduplicator.Lifetime;
                foreach (var message in history.Messages)
                {
                    _lastAssigned = Math.Max(_lastAssigned, message.Seq);
                    if (message.Ref is not null && message.Timestamp > since)
                    {
                        (_refs ??= new RefDeduplicator(owner.Clock)).Remember(message.From, message.Ref, message.Seq, message.Timestamp);
                    }
                }
            }
        }

        public void Append(AppendRequest request, IAppendCallback callback)
        {
            long duplicateOf;
            lock (_gate)
            {
                if (request.Ref is not null && _refs is not null && _refs.TryGet(request.From, request.Ref, out var earlier))
                {
                    duplicateOf = earlier.Seq;
                }
                else
                {
                    long seq = ++_lastAssigned;
                    if (request.Ref is not null)
                    {
                        (_refs ??= new RefDeduplicator(owner.Clock)).Remember(request.From, request.Ref, seq, request.Timestamp);
                    }

                    _unstored.Enqueue((request, callback));
                    // Inside the lock so the store sees this room's appends in seq order; Append never waits.
                    owner.Store.Append(request.ToMessage(seq), this);
                    return;
                }
            }

            callback.OnAppended(request, new AppendResult(AppendOutcome.Duplicate, duplicateOf));
        }

        void IAppendCompletion.OnAppended(ChatMessage message)
        {
            (AppendRequest Request, IAppendCallback Callback) next;
            lock (_gate)
            {
                next = _unstored.Dequeue();
                _lastStored = message.Seq;
            }

            owner.Bus.PublishMessage(message);
            next.Callback.OnAppended(next.Request, new AppendResult(AppendOutcome.Stored, message.Seq));
        }

        /// <summary>
        /// The store refused the message: it has no seq after all. Its ref is forgotten so that a resend is stored.
        /// The store refuses every later message of this room until the room starts again from the refused seq, so
        /// once nothing is unstored the counter rolls back and the room's stored seqs stay without a gap.
        /// </summary>
        void IAppendCompletion.OnAppendFailed(ChatMessage message)
        {
            (AppendRequest Request, IAppendCallback Callback) next;
            lock (_gate)
            {
                next = _unstored.Dequeue();
                if (message.Ref is not null && _refs is not null && _refs.TryGet(message.From, message.Ref, out var entry) && entry.Seq == message.Seq)
                {
                    _refs.Forget(message.From, message.Ref);
                }

                if (_unstored.Count == 0)
                {
                    _lastAssigned = _lastStored;
                }
            }

            next.Callback.OnAppended(next.Request, new AppendResult(AppendOutcome.Unavailable, message.Seq));
        }
    }

    private TimeProvider Clock => clock;

    private IHistoryStore Store => store;

    private LocalRoomBus Bus => bus;
}
