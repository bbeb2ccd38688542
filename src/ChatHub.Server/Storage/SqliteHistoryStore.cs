using System.Diagnostics;
using System.Threading.Channels;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Storage;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode. A single writer drains every queued append into
/// one transaction (group commit), so a busy server pays one fsync per batch, not per message, and no room
/// ever waits on the disk. Each room's last seq is kept in its own table so seq continues after trimming
/// and after a restart.
/// </summary>
public sealed partial class SqliteHistoryStore : IHistoryStore, IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most reads at once. Each read takes a pooled connection, and each pooled connection keeps three files open
    /// (the database, its WAL and the shared-memory index) until the store is drained; unbounded, a burst of room
    /// loads (every room of a restarted server joined at once) would open files without limit and eat into what the
    /// connection cap counts on (<see cref="Hosting.OpenFileLimit"/>). Reads in WAL mode do not wait for the writer,
    /// so four keep up with any number of rooms loading.
    /// </summary>
    internal const int MaxReaders = 4;

    private readonly SemaphoreSlim _readers = new(MaxReaders, MaxReaders);

    private readonly StorageOptions _options;
    private readonly ILogger<SqliteHistoryStore> _logger;
    private readonly ChatMetrics _metrics;

    // Rooms whose message failed, with the first failed seq; touched only by the writer. See Append.
    private readonly Dictionary<string, long> _failedFrom = new(StringComparer.Ordinal);
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly string _connectionString;
    private Task _writer = Task.CompletedTask;
    private volatile bool _healthy = true;

    public SqliteHistoryStore(IOptions<ChatHubOptions> options, ChatMetrics metrics, ILogger<SqliteHistoryStore> logger)
    {
        _options = options.Value.Storage;
        _metrics = metrics;
        _logger = logger;
        string path = Path.GetFullPath(_options.SqlitePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
        }.ToString();
        FilePath = path;
    }

    public string FilePath { get; }

    public bool IsHealthy => _healthy;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS rooms (
                room     TEXT PRIMARY KEY,
                last_seq INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS messages (
                room   TEXT    NOT NULL,
                seq    INTEGER NOT NULL,
                sender TEXT    NOT NULL,
                text   TEXT    NOT NULL,
                ts_ms  INTEGER NOT NULL,
                ref    TEXT,
                PRIMARY KEY (room, seq)
            ) WITHOUT ROWID;
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        LogOpened(_logger, FilePath);
    }

    public async Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        using var reading = await ReaderAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // The primary key's BINARY collation is byte order, which for room names (ASCII) is ordinal order.
        command.CommandText = "SELECT room, last_seq FROM rooms WHERE room > $after ORDER BY room LIMIT $limit";
        command.Parameters.AddWithValue("$after", after ?? "");
        command.Parameters.AddWithValue("$limit", limit);
        var rooms = new List<StoredRoom>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rooms.Add(new StoredRoom(reader.GetString(0), reader.GetInt64(1)));
        }

        return rooms;
    }

    public async Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken)
    {
        using var reading = await ReaderAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, sender, text, ts_ms, ref FROM messages WHERE room = $room ORDER BY seq DESC LIMIT $limit;
            SELECT last_seq FROM rooms WHERE room = $room;
            """;
        command.Parameters.AddWithValue("$room", room);
        command.Parameters.AddWithValue("$limit", limit);
        var newestFirst = new List<ChatMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            newestFirst.Add(new ChatMessage(
                room,
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                Timestamps.FromUnixMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        long lastSeq = 0;
        if (await reader.NextResultAsync(cancellationToken) && await reader.ReadAsync(cancellationToken))
        {
            lastSeq = reader.GetInt64(0);
        }

        newestFirst.Reverse();
        return new RoomHistory(newestFirst, lastSeq);
    }

    public void Append(ChatMessage message, IAppendCompletion completion)
    {
        if (!_queue.Writer.TryWrite(new PendingAppend(message, completion)))
        {
            // Only after DrainAsync: the host is stopping and every connection is already closed.
            LogAppendAfterDrain(_logger, message.Room, message.Seq);
            completion.OnAppendFailed(message);
        }
    }

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _writer.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        SqliteConnection.ClearAllPools();
    }

    /// <summary>
    /// The one writer. Nothing may end it but the drain: a failure anywhere (opening the file, a commit, a room's
    /// callback) is caught, logged and reported, and the loop carries on with what is queued.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                await using var connection = await OpenAsync(CancellationToken.None);
                await using (var pragma = connection.CreateCommand())
                {
                    pragma.CommandText = $"PRAGMA synchronous = {SynchronousMode(_options.Synchronous)};";
                    await pragma.ExecuteNonQueryAsync();
                }

                using var batchWriter = new SqliteBatchWriter(connection, _options.HistoryWindow, _metrics);
                delay = FirstRetryDelay;
                while (batch.Count > 0 || await reader.WaitToReadAsync())
                {
                    while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var item))
                    {
                        batch.Add(item);
                    }

                    await CommitAsync(batchWriter, batch);
                    batch.Clear();
                }

                return;
            }
            catch (Exception e)
            {
                // The writer could not even be set up (file gone, unreadable): what is queued waits, readiness is red.
                _healthy = false;
                _metrics.StoreCommitFailed();
                LogWriterFailed(_logger, e, delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = Backoff(delay);
            }
        }
    }

    /// <summary>
    /// Commits one batch and tells each message's room. A commit that fails with an error that may pass is
    /// retried with backoff (never dropped: later seqs build on it) for up to <c>CommitRetryTimeout</c>; one that
    /// cannot pass, or keeps failing, is refused: each message's room hears <c>OnAppendFailed</c>, and that room's
    /// later messages are refused too until it rolls its seq back (see <see cref="IHistoryStore.Append"/>).
    /// </summary>
    private async Task CommitAsync(SqliteBatchWriter writer, List<PendingAppend> batch)
    {
        var toCommit = new List<PendingAppend>(batch.Count);
        foreach (var item in batch)
        {
            if (_failedFrom.TryGetValue(item.Message.Room, out long failedSeq))
            {
                if (item.Message.Seq > failedSeq)
                {
                    Fail(item); // the room has not yet heard that an earlier message of it failed
                    continue;
                }

                _failedFrom.Remove(item.Message.Room); // the room rolled back: it starts again at the failed seq
            }

            toCommit.Add(item);
        }

        if (toCommit.Count == 0)
        {
            return;
        }

        var delay = FirstRetryDelay;
        long failingSince = 0;
        while (true)
        {
            try
            {
                writer.Commit(toCommit);
                if (!_healthy)
                {
                    _healthy = true;
                    LogRecovered(_logger);
                }

                break;
            }
            catch (Exception e)
            {
                _healthy = false;
                _metrics.StoreCommitFailed();
                failingSince = failingSince == 0 ? Stopwatch.GetTimestamp() : failingSince;
                if (IsPermanent(e) || Stopwatch.GetElapsedTime(failingSince) + delay > _options.CommitRetryTimeout)
                {
                    LogCommitRefused(_logger, e, toCommit.Count);
                    foreach (var item in toCommit)
                    {
                        _failedFrom.TryAdd(item.Message.Room, item.Message.Seq);
                        Fail(item);
                    }

                    return;
                }

                LogCommitFailed(_logger, e, toCommit.Count, delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = Backoff(delay);
            }
        }

        foreach (var item in toCommit)
        {
            try
            {
                item.Completion.OnAppended(item.Message);
            }
            catch (Exception e)
            {
                LogCallbackFailed(_logger, e, item.Message.Room, item.Message.Seq);
            }
        }
    }

    private void Fail(PendingAppend item)
    {
        _metrics.StoreAppendsFailed(1);
        try
        {
            item.Completion.OnAppendFailed(item.Message);
        }
        catch (Exception e)
        {
            LogCallbackFailed(_logger, e, item.Message.Room, item.Message.Seq);
        }
    }

    /// <summary>
    /// Errors a retry cannot cure: the file is full, read-only, corrupt or not a database, permission is denied,
    /// or the rows break a constraint. Busy, locked, I/O hiccups and anything unexpected may pass.
    /// </summary>
    private static bool IsPermanent(Exception e) => e is SqliteException sqlite && (sqlite.SqliteErrorCode & 0xFF) switch
    {
        3 /* PERM */ or 8 /* READONLY */ or 11 /* CORRUPT */ or 13 /* FULL */ or 14 /* CANTOPEN */ or 18 /* TOOBIG */
            or 19 /* CONSTRAINT */ or 20 /* MISMATCH */ or 23 /* AUTH */ or 26 /* NOTADB */ => true,
        _ => false,
    };

    private static TimeSpan Backoff(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));

    /// <summary>One of the <see cref="MaxReaders"/> read slots, released when disposed.</summary>
    private async Task<ReaderSlot> ReaderAsync(CancellationToken cancellationToken)
    {
        await _readers.WaitAsync(cancellationToken);
        return new ReaderSlot(_readers);
    }

    private readonly struct ReaderSlot(SemaphoreSlim readers) : IDisposable
    {
        public void Dispose() => readers.Release();
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string SynchronousMode(string value) => value.ToUpperInvariant() switch
    {
        "OFF" or "NORMAL" or "FULL" or "EXTRA" => value.ToUpperInvariant(),
        _ => throw new InvalidOperationException($"ChatHub:Storage:Synchronous must be OFF, NORMAL, FULL or EXTRA, not '{value}'"),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "SQLite history store at {Path}")]
    private static partial void LogOpened(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of {Count} messages failed; retrying in {DelayMs} ms")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of {Count} messages failed for good; their senders get unavailable")]
    private static partial void LogCommitRefused(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store commits succeed again")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The store's writer failed; starting it again in {DelayMs} ms")]
    private static partial void LogWriterFailed(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Telling room {Room} about #{Seq} failed")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception, string room, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Room}#{Seq} arrived after the store was drained; not stored")]
    private static partial void LogAppendAfterDrain(ILogger logger, string room, long seq);
}

internal readonly record struct PendingAppend(ChatMessage Message, IAppendCompletion Completion);
