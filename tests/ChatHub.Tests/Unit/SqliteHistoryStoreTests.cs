using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;
using ChatHub.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatHub.Tests.Unit;

/// <summary>The SQLite store on a real file: group commit, order of completions, trimming, reopening.</summary>
[Collection(OwnMetersCollection.Name)]
public sealed class SqliteHistoryStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class Completions : IAppendCompletion
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly int _expected;

        public Completions(int expected) => _expected = expected;

        public ConcurrentQueue<ChatMessage> Done { get; } = new();

        public ConcurrentQueue<ChatMessage> Failed { get; } = new();

        public Task All => _all.Task;

        /// <summary>Throws from the callback for this seq, as a buggy room would.</summary>
        public long ThrowOn { get; init; } = -1;

        public void OnAppended(ChatMessage message)
        {
            Done.Enqueue(message);
            Settle();
            if (message.Seq == ThrowOn)
            {
                throw new InvalidOperationException("a room's callback failed");
            }
        }

        public void OnAppendFailed(ChatMessage message)
        {
            Failed.Enqueue(message);
            Settle();
        }

        private void Settle()
        {
            if (Done.Count + Failed.Count == _expected)
            {
                _all.TrySetResult();
            }
        }
    }

    private SqliteHistoryStore Open(int window = 1000, TimeSpan? commitRetryTimeout = null) =>
        new(Options.Create(new ChatHubOptions
            {
                Storage = new StorageOptions
                {
                    SqlitePath = _dir.File("h.db"),
                    HistoryWindow = window,
                    CommitRetryTimeout = commitRetryTimeout ?? TimeSpan.FromSeconds(30),
                },
            }),
            Metrics,
            NullLogger<SqliteHistoryStore>.Instance);

    private static ChatMetrics Metrics { get; } =
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_dir.File("h.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static ChatMessage Message(string room, long seq, string? reference = null) =>
        new(room, seq, "ann", $"text {seq}", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123 + seq), reference);

    [Fact]
    public async Task Completes_appends_in_order_and_reads_them_back_after_reopening()
    {
        await using (var store = Open())
        {
            await store.InitializeAsync(CancellationToken.None);
            var completions = new Completions(300);
            for (int seq = 1; seq <= 200; seq++)
            {
                store.Append(Message("a", seq, seq == 7 ? "ref-7" : null), completions);
                if (seq <= 100)
                {
                    store.Append(Message("b", seq), completions);
                }
            }

            await completions.All.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), completions.Done.Where(m => m.Room == "a").Select(m => m.Seq));
            await store.DrainAsync(CancellationToken.None);
        }

        await using (var store = Open())
        {
            await store.InitializeAsync(CancellationToken.None);
            var rooms = (await store.ListRoomsAsync(null, 100, CancellationToken.None)).OrderBy(r => r.Room).ToList();
            Assert.Equal([new StoredRoom("a", 200), new StoredRoom("b", 100)], rooms);

            var history = await store.LoadAsync("a", 5, CancellationToken.None);
            Assert.Equal(200, history.LastSeq);
            Assert.Equal([196L, 197, 198, 199, 200], history.Messages.Select(m => m.Seq));
            Assert.Equal(Message("a", 200), history.Messages[^1]);

            var withRef = await store.LoadAsync("a", 200, CancellationToken.None);
            Assert.Equal("ref-7", withRef.Messages.Single(m => m.Seq == 7).Ref);
        }
    }

    [Fact]
    public async Task Trims_each_room_to_its_window_but_keeps_the_last_seq()
    {
        await using var store = Open(window: 10);
        await store.InitializeAsync(CancellationToken.None);
        var completions = new Completions(25);
        for (int seq = 1; seq <= 25; seq++)
        {
            store.Append(Message("t", seq), completions);
        }

        await completions.All.WaitAsync(TimeSpan.FromSeconds(30));
        var history = await store.LoadAsync("t", 1000, CancellationToken.None);
        Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), history.Messages.Select(m => m.Seq));
        Assert.Equal(25, history.LastSeq);
    }

    [Fact]
    public async Task An_unknown_room_is_empty()
    {
        await using var store = Open();
        await store.InitializeAsync(CancellationToken.None);
        var history = await store.LoadAsync("nobody", 50, CancellationToken.None);
        Assert.Empty(history.Messages);
        Assert.Equal(0, history.LastSeq);
        Assert.True(store.IsHealthy);
    }

    [Fact]
    public async Task A_callback_that_throws_does_not_stop_the_writer()
    {
        await using var store = Open();
        await store.InitializeAsync(CancellationToken.None);
        var throwing = new Completions(1) { ThrowOn = 1 };
        store.Append(Message("a", 1), throwing);
        await throwing.All.WaitAsync(WsClient.Timeout);

        var later = new Completions(1);
        store.Append(Message("b", 1), later);
        await later.All.WaitAsync(WsClient.Timeout);
        Assert.Equal(1, Assert.Single(later.Done).Seq);
        Assert.True(store.IsHealthy);
    }

    [Fact]
    public async Task A_permanent_error_refuses_the_room_until_it_starts_again_from_the_refused_seq()
    {
        await using var store = Open();
        await store.InitializeAsync(CancellationToken.None);
        var first = new Completions(1);
        store.Append(Message("r", 1), first);
        await first.All.WaitAsync(WsClient.Timeout);

        // A constraint that every insert breaks: retrying cannot help, as with a full disk or a read-only file.
        Execute("CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'refused'); END;");
        var refused = new Completions(2);
        store.Append(Message("r", 2), refused);
        store.Append(Message("r", 3), refused);
        await refused.All.WaitAsync(WsClient.Timeout);
        Assert.Equal([2L, 3], refused.Failed.Select(m => m.Seq));
        Assert.Empty(refused.Done);
        Assert.False(store.IsHealthy);

        // The file takes inserts again, but seq 3 would leave a gap where 2 was refused: it is refused too
        // until the room starts again from 2.
        Execute("DROP TRIGGER refuse;");
        var after = new Completions(3);
        store.Append(Message("r", 3), after);
        store.Append(Message("r", 2), after);
        store.Append(Message("r", 3), after);
        await after.All.WaitAsync(WsClient.Timeout);
        Assert.Equal([3L], after.Failed.Select(m => m.Seq));
        Assert.Equal([2L, 3], after.Done.Select(m => m.Seq));
        Assert.True(store.IsHealthy);
        var history = await store.LoadAsync("r", 10, CancellationToken.None);
        Assert.Equal([1L, 2, 3], history.Messages.Select(m => m.Seq));
    }

    [Fact]
    public async Task An_unexpected_error_is_retried_and_refused_after_the_retry_timeout()
    {
        await using var store = Open(commitRetryTimeout: TimeSpan.FromMilliseconds(300));
        await store.InitializeAsync(CancellationToken.None);

        // A message the driver itself rejects (no text), not SQLite: an error of no known kind, retried until the timeout.
        var broken = new Completions(1);
        store.Append(Message("x", 1) with { Text = null! }, broken);
        await broken.All.WaitAsync(WsClient.Timeout);
        Assert.Equal(1, Assert.Single(broken.Failed).Seq);
        Assert.False(store.IsHealthy);

        var fine = new Completions(1);
        store.Append(Message("x", 1), fine);
        await fine.All.WaitAsync(WsClient.Timeout);
        Assert.Single(fine.Done);
        Assert.True(store.IsHealthy);
    }
}
