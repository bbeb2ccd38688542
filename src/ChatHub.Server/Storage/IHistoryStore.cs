using ChatHub.Server.Protocol;

namespace ChatHub.Server.Storage;

/// <summary>
/// Where room messages live. Appends are fire-and-callback rather than awaited so that a room's actor never
/// waits on the disk: the store groups many appends into one commit and reports each one once it is durable,
/// in the order it was appended.
/// </summary>
public interface IHistoryStore
{
    /// <summary>Creates the schema and opens the writer. Called once at start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> rooms that have kept history, with their last seq (which outlives trimmed
    /// messages), sorted by name (ordinal) and after <paramref name="after"/> when it is given: one page of the list.
    /// </summary>
    Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="limit"/> messages of a room, oldest first, and its last seq.</summary>
    Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a message; <paramref name="completion"/> hears of it once committed, or that it could not be stored.
    /// Never blocks. Once a room's message has failed, the store fails every later message of that room until the
    /// room appends a seq at or below the failed one again (it rolls its counter back), so a room's stored seqs
    /// never have a gap.
    /// </summary>
    void Append(ChatMessage message, IAppendCompletion completion);

    /// <summary>Commits everything queued so far, then stops taking appends.</summary>
    Task DrainAsync(CancellationToken cancellationToken);

    /// <summary>False while commits are failing; readiness reports it.</summary>
    bool IsHealthy { get; }
}

/// <summary>Told of each appended message once it is durable or has failed, in append order.</summary>
public interface IAppendCompletion
{
    void OnAppended(ChatMessage message);

    /// <summary>The message was not stored and never will be (the store is full, read-only, corrupt, or kept failing).</summary>
    void OnAppendFailed(ChatMessage message);
}

public sealed record StoredRoom(string Room, long LastSeq);

public sealed record RoomHistory(IReadOnlyList<ChatMessage> Messages, long LastSeq)
{
    public static readonly RoomHistory Empty = new([], 0);
}
