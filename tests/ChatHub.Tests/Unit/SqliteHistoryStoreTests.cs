using System.Collections.Concurrent;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatHub.Tests.Unit;

/// <summary>The SQLite store on a real file: group commit, order of completions, trimming, reopening.</summary>
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

        public Task All => _all.Task;

        public void OnAppended(ChatMessage message)
        {
            Done.Enqueue(message);
            if (Done.Count == _expected)
            {
                _all.TrySetResult();
            }
        }
    }

    private SqliteHistoryStore Open(int window = 1000) =>
        new(Options.Create(new ChatHubOptions { Storage = new StorageOptions { SqlitePath = _dir.File("h.db"), HistoryWindow = window } }),
            NullLogger<SqliteHistoryStore>.Instance);

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
            var rooms = (await store.ListRoomsAsync(CancellationToken.None)).OrderBy(r => r.Room).ToList();
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
}
