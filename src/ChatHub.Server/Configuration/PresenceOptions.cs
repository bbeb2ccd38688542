using System.ComponentModel.DataAnnotations;

namespace ChatHub.Server.Configuration;

/// <summary>
/// Presence batches (docs/protocol.md, "Presence batches"): a room gathers the presence changes for the members
/// that asked for batches and sends them as one frame per tick, so a room filling up costs each member a few
/// frames a second instead of one frame per joiner.
/// </summary>
public sealed class PresenceOptions
{
    /// <summary>
    /// The tick: the longest a change waits before its batch is sent. A batch also goes out at once before any
    /// message of the room and when it holds <see cref="MaxBatchChanges"/> changes. One second (Phoenix's presence
    /// broadcasts every 1.5 s): at 100 ms a room filling at a few joins a second still got one frame per join
    /// (docs/performance.md). From 1 ms to 5 s, checked at start (a TimeSpan range attribute is not trim-safe).
    /// </summary>
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Changes in one batch; a batch this long is sent without waiting for the tick, so a frame stays small.</summary>
    [Range(1, 10_000)] public int MaxBatchChanges { get; set; } = 256;
}
