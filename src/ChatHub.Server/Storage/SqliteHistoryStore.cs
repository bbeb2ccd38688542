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
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly StorageOptions _options;
    private readonly ILogger<SqliteHistoryStore> _logger;
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly string _connectionString;
    private Task _writer = Task.CompletedTask;
    private volatile bool _healthy = true;

    private readonly ChatMetrics? _metrics;

    public SqliteHistoryStore(IOptions<ChatHubOptions> options, ILogger<SqliteHistoryStore> logger, ChatMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options.Value.Storage;
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

    public async Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT room, last_seq FROM rooms";
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

    private async Task WriteLoopAsync()
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA synchronous = {SynchronousMode(_options.Synchronous)};";
            await pragma.ExecuteNonQueryAsync();
        }

        using var batchWriter = new SqliteBatchWriter(connection, _options.HistoryWindow, _metrics);
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            await CommitWithRetryAsync(batchWriter, batch);
            foreach (var item in batch)
            {
                item.Completion.OnAppended(item.Message);
            }

            batch.Clear();
        }
    }

    /// <summary>
    /// A failed commit is retried, never dropped: the messages in it have seqs that later messages build on,
    /// and their senders are still waiting for the ack. Readiness goes red meanwhile.
    /// </summary>
    private async Task CommitWithRetryAsync(SqliteBatchWriter writer, List<PendingAppend> batch)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                writer.Commit(batch);
                _healthy = true;
                return;
            }
            catch (SqliteException e)
            {
                _healthy = false;
                LogCommitFailed(_logger, e, batch.Count, delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Room}#{Seq} arrived after the store was drained; not stored")]
    private static partial void LogAppendAfterDrain(ILogger logger, string room, long seq);
}

internal readonly record struct PendingAppend(ChatMessage Message, IAppendCompletion Completion);
