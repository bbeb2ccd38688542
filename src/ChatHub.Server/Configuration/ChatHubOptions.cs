using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Configuration;

/// <summary>
/// Everything under the <c>ChatHub:</c> configuration section. Defaults are documented in docs/configuration.md.
/// <c>[ValidateObjectMembers]</c> makes the start-up validation reach the ranges of the nested sections (it does not
/// descend into nested objects by itself); sections without annotations (Logging, Cluster) go without it, as the
/// validator generator asks, and are checked by <c>Validate</c> rules at registration.
/// </summary>
public sealed class ChatHubOptions
{
    public const string SectionName = "ChatHub";

    [ValidateObjectMembers] public LimitsOptions Limits { get; set; } = new();

    [ValidateObjectMembers] public StorageOptions Storage { get; set; } = new();

    [ValidateObjectMembers] public ConnectionOptions Connections { get; set; } = new();

    public LoggingOptions Logging { get; set; } = new();

    [ValidateObjectMembers] public PresenceOptions Presence { get; set; } = new();

    /// <summary>
    /// StackExchange.Redis configuration string(s). Set: this node is one of a cluster that shares rooms, names
    /// and presence through Redis (which is then the store). Several independent Redis instances, separated by
    /// <c>;</c>, are shards: rooms and names are spread over them by a consistent hash. Empty: one node on its own store.
    /// </summary>
    public string? Redis { get; set; }

    public ClusterOptions Cluster { get; set; } = new();
}

public sealed class ClusterOptions
{
    /// <summary>
    /// A node that has not renewed its heartbeat for this long is dead: the survivors free its names and take
    /// its members out of their rooms. It renews every third of this.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Longest wait for Redis on a request; past it (or at once while Redis is unreachable) the request gets
    /// <c>unavailable</c>.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class LimitsOptions
{
    /// <summary>UTF-8 bytes of one message's <c>text</c>; more is <c>too_large</c>.</summary>
    [Range(1, 1 << 20)] public int MaxTextBytes { get; set; } = 4096;

    /// <summary>Bytes of one inbound WebSocket message; more closes the connection with 1009.</summary>
    [Range(256, 16 << 20)] public int MaxFrameBytes { get; set; } = 64 * 1024;

    [Range(1, 10_000)] public int MaxRoomsPerConnection { get; set; } = 50;

    /// <summary>
    /// Most TCP connections at once (WebSocket and HTTP). 0: the process's open-files limit less the descriptors
    /// open at start less <see cref="FileDescriptorReserve"/>, so the server refuses new connections instead of
    /// running out of file descriptors, which would take every connection down with it.
    /// </summary>
    [Range(0, int.MaxValue)] public int MaxConnections { get; set; }

    /// <summary>
    /// File descriptors kept, when MaxConnections is 0, for what the server opens after start: listening sockets,
    /// the SQLite files, Redis sockets, the runtime's own. Default 128 in the Native AOT binary, 256 under the JIT,
    /// which also opens the assemblies it loads later (<see cref="Hosting.OpenFileLimit.DefaultReserve"/>).
    /// </summary>
    [Range(16, 100_000)] public int FileDescriptorReserve { get; set; } = Hosting.OpenFileLimit.DefaultReserve;

    /// <summary>
    /// Sustained rate of <c>say</c> and <c>dm</c> per connection (token bucket refill per second). Every other request
    /// draws on the same bucket at a half or a quarter of a message (see docs/security.md).
    /// </summary>
    [Range(1, 100_000_000)] public int MessagesPerSecond { get; set; } = 20;

    /// <summary>Token bucket size: how many messages may go at once after a quiet spell.</summary>
    [Range(1, 100_000_000)] public int MessageBurst { get; set; } = 40;

    /// <summary>
    /// Messages dropped with <c>rate_limited</c> in a row, without one accepted in between, before the connection
    /// is closed with 1008. Counts a client that ignores the errors, not one that bursts now and then.
    /// </summary>
    [Range(1, int.MaxValue)] public int AbuseDropThreshold { get; set; } = 100;

    /// <summary>Frames queued for one connection; a full outbox closes it with 1013 (slow consumer).</summary>
    [Range(4, 1_000_000)] public int OutboxCapacity { get; set; } = 1024;

    /// <summary>
    /// Bytes queued for one connection; a frame that would pass it closes the connection with 1013, like a full
    /// outbox. A frame that finds the outbox empty is always taken, so one large reply never trips it. The default
    /// holds one store batch of the largest messages (512 × 4 KiB) twice over, so a room's burst never trips it.
    /// </summary>
    [Range(4096, 1L << 32)] public long OutboxBytes { get; set; } = 4 << 20;
    /// Rooms held in memory on this node. A join (or a history request) that would load one more is answered
    /// <c>server_busy</c>. A room leaves memory as soon as it has no member on this node and nothing in flight (its
    /// history stays in the store), which makes room.
    /// </summary>
    [Range(1, 10_000_000)] public int MaxRooms { get; set; } = 10_000;

    /// <summary>
    /// Requests (join, say, history) waiting in one room's mailbox, and says waiting for the room log; one more is
    /// answered <c>server_busy</c>, so no client can make a room's queue grow without bound.
    /// </summary>
    [Range(1, 10_000_000)] public int RoomMailboxCapacity { get; set; } = 4096;

    /// <summary>Rooms in one page of the room list (<c>rooms</c>, <c>/api/rooms</c>): the default and the most a <c>limit</c> may ask.</summary>
    [Range(1, 100_000)] public int RoomListPageSize { get; set; } = 100;
}

public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>SQLite file; a relative path is under the working directory.</summary>
    [Required] public string SqlitePath { get; set; } = "data/chathub.db";

    /// <summary>Messages kept per room, in the store and in the room's memory.</summary>
    [Range(1, 1_000_000)] public int HistoryWindow { get; set; } = 1000;

    /// <summary>Most messages committed in one SQLite transaction.</summary>
    [Range(1, 100_000)] public int MaxBatchSize { get; set; } = 512;

    /// <summary>
    /// How long a commit failing with an error that may pass (busy, I/O, anything unexpected) is retried before its
    /// messages are refused with <c>unavailable</c>. Errors that cannot pass (disk full, read-only, corrupt,
    /// constraint) refuse them at once.
    /// </summary>
    public TimeSpan CommitRetryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>SQLite <c>synchronous</c> pragma: FULL syncs the WAL on each commit (acked = on disk), NORMAL does not.</summary>
    public string Synchronous { get; set; } = "FULL";
}

public enum StorageProvider
{
    Sqlite,
    Memory,
}

public sealed class ConnectionOptions
{
    /// <summary>
    /// Accept connections with ChatHub's own listener on IP endpoints: a plain <c>GET /ws</c> upgrade becomes a chat
    /// connection over the bare socket, with no Kestrel connection or HTTP request under it; every other socket is
    /// handed to Kestrel unread. False leaves every socket to Kestrel and every upgrade to ASP.NET Core's pipeline.
    /// </summary>
    public bool AcceptOnTransport { get; set; } = true;

    /// <summary>
    /// Interval of the WebSocket heartbeat that keeps proxies and NATs from closing a quiet connection: a ping
    /// awaiting a pong within <see cref="KeepAliveTimeout"/>, or, with that timeout zero, an unsolicited pong
    /// (RFC 6455 5.5.3) that awaits nothing. Zero turns both off.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long after a keep-alive ping the peer's pong may take; a peer that sends none is gone, and its
    /// connection is aborted (its rooms see it leave). Zero: unsolicited pongs that await nothing.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// When the WebSocket's ping with a timeout is off (<see cref="KeepAliveInterval"/> or
    /// <see cref="KeepAliveTimeout"/> zero): idle time before the kernel starts TCP keep-alive probes on a
    /// WebSocket's socket; a peer that answers none of <see cref="TcpKeepAliveProbes"/> probes,
    /// <see cref="TcpKeepAliveInterval"/> apart, is dead: the socket fails, the connection ends and its rooms see
    /// it leave. Zero leaves the socket's defaults alone.
    /// </summary>
    public TimeSpan TcpKeepAliveTime { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan TcpKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 100)] public int TcpKeepAliveProbes { get; set; } = 3;

    /// <summary>How long a closing connection may take to flush and hand-shake the close before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After the open connections fell by at least this many, to half or less of their highest count since the last
    /// time, and stayed there for a second: one full collection that gives freed memory back to the system
    /// (<see cref="Connections.MemoryReclaimer"/>). Zero turns it off.
    /// </summary>
    [Range(0, int.MaxValue)] public int ReclaimAfterDrop { get; set; } = 1000;
}

public sealed class LoggingOptions
{
    /// <summary><c>text</c> (human console lines) or <c>json</c> (compact JSON, one event per line).</summary>
    public string Format { get; set; } = "text";
}
