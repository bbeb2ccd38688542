using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;

namespace ChatHub.Server.Backplane;

/// <summary>
/// A room's messages as the truth: numbers each new message (the next <c>seq</c>), drops a resent <c>ref</c>
/// at append time, keeps the newest <c>HistoryWindow</c> and announces each stored message on the
/// <see cref="IRoomBus"/>. One node does this in process over the SQLite (or memory) store; a cluster does it
/// in one Redis script per message, so that every node agrees on the numbers.
/// </summary>
internal interface IRoomLog
{
    /// <summary>Opens the store. Called once at start, before connections are accepted.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Numbers and stores a message, then publishes it on the bus and reports the outcome to
    /// <paramref name="callback"/>. Never blocks. Appends of one room, made by its one actor, are stored in order.
    /// </summary>
    void Append(AppendRequest request, IAppendCallback callback);

    /// <summary>The newest <paramref name="limit"/> messages of a room, oldest first, and its last seq.</summary>
    Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken);

    /// <summary>Kept messages with seq above <paramref name="afterSeq"/>, oldest first, at most <paramref name="limit"/>: how gaps are filled.</summary>
    Task<IReadOnlyList<ChatMessage>> ReadAfterAsync(string room, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>Rooms with kept history and their last seq, sorted by name (ordinal), after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// This node's actor of the room has retired: whatever the log keeps in memory for the room may go (it is read
    /// from the store again on the next <see cref="LoadAsync"/>). Called with no append of the room outstanding.
    /// </summary>
    void Release(string room);

    /// <summary>Stores everything still queued, then stops taking appends.</summary>
    Task DrainAsync(CancellationToken cancellationToken);

    /// <summary>False while messages cannot be stored; readiness reports it.</summary>
    bool IsHealthy { get; }
}

/// <summary>What a <c>say</c> asks the log to keep; the log gives it a seq.</summary>
internal sealed record AppendRequest(string Room, string From, string Text, string? Ref, DateTimeOffset Timestamp)
{
    /// <summary>Whatever the caller needs back with the answer (the room actor: the sender). The log ignores it.</summary>
    public object? Origin { get; init; }

    public ChatMessage ToMessage(long seq) => new(Room, seq, From, Text, Timestamp, Ref);
}

internal enum AppendOutcome
{
    /// <summary>Stored under <see cref="AppendResult.Seq"/> and published.</summary>
    Stored,

    /// <summary>The sender's name already said this ref in this room recently: stored earlier under <see cref="AppendResult.Seq"/>.</summary>
    Duplicate,

    /// <summary>
    /// The store could not be reached in time, or refused the message for good; nothing was stored, no seq was
    /// taken (<see cref="AppendResult.Seq"/>: the one it would have had, or 0) and the ref is free again.
    /// </summary>
    Unavailable,
}

internal readonly record struct AppendResult(AppendOutcome Outcome, long Seq)
{
    public static AppendResult Unavailable => new(AppendOutcome.Unavailable, 0);
}

/// <summary>
/// Hears how an append ended. Called on the log's thread: hop back onto your own. Answers to several appends may
/// arrive in any order; their seqs follow the order of the appends.
/// </summary>
internal interface IAppendCallback
{
    void OnAppended(AppendRequest request, AppendResult result);
}
