using System.Diagnostics;
using ChatHub.Server.Observability;
using Microsoft.Data.Sqlite;

namespace ChatHub.Server.Storage;

/// <summary>
/// Writes one batch of messages in one transaction with prepared commands: insert each message, advance each
/// touched room's last seq, and trim each touched room to its window.
/// </summary>
internal sealed class SqliteBatchWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly int _window;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _advance;
    private readonly SqliteCommand _trim;
    private readonly Dictionary<string, long> _lastSeqByRoom = new(StringComparer.Ordinal);

    private readonly ChatMetrics? _metrics;

    public SqliteBatchWriter(SqliteConnection connection, int window, ChatMetrics? metrics = null)
    {
        _metrics = metrics;
        _connection = connection;
        _window = window;
        _insert = Prepare("INSERT INTO messages (room, seq, sender, text, ts_ms, ref) VALUES ($room, $seq, $sender, $text, $ts, $ref)",
            "$room", "$seq", "$sender", "$text", "$ts", "$ref");
        _advance = Prepare("INSERT INTO rooms (room, last_seq) VALUES ($room, $seq) ON CONFLICT(room) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
            "$room", "$seq");
        _trim = Prepare("DELETE FROM messages WHERE room = $room AND seq <= $cut", "$room", "$cut");
    }

    public void Commit(IReadOnlyList<PendingAppend> batch)
    {
        long started = Stopwatch.GetTimestamp();
        using var transaction = _connection.BeginTransaction();
        _insert.Transaction = _advance.Transaction = _trim.Transaction = transaction;
        _lastSeqByRoom.Clear();
        foreach (var (message, _) in batch)
        {
            var p = _insert.Parameters;
            p[0].Value = message.Room;
            p[1].Value = message.Seq;
            p[2].Value = message.From;
            p[3].Value = message.Text;
            p[4].Value = message.Timestamp.ToUnixTimeMilliseconds();
            p[5].Value = (object?)message.Ref ?? DBNull.Value;
            _insert.ExecuteNonQuery();
            _lastSeqByRoom[message.Room] = message.Seq;
        }

        foreach (var (room, lastSeq) in _lastSeqByRoom)
        {
            _advance.Parameters[0].Value = room;
            _advance.Parameters[1].Value = lastSeq;
            _advance.ExecuteNonQuery();
            if (lastSeq > _window)
            {
                _trim.Parameters[0].Value = room;
                _trim.Parameters[1].Value = lastSeq - _window;
                _trim.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        _metrics?.StoreCommitted(batch.Count, Stopwatch.GetElapsedTime(started));
    }

    public void Dispose()
    {
        _insert.Dispose();
        _advance.Dispose();
        _trim.Dispose();
    }

    private SqliteCommand Prepare(string sql, params string[] parameterNames)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameterNames)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
