using ChatHub.Server.Backplane;
using ChatHub.Server.Backplane.Local;
using ChatHub.Server.Configuration;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;

namespace ChatHub.Tests.Unit;

/// <summary>
/// One node's room log over a store whose answers the test gives by hand: what a refused message does to the
/// room's numbering and to its ref. (The real SQLite store's refusals are tested in StoreFailureTests.)
/// </summary>
public sealed class LocalRoomLogTests
{
    [Fact]
    public async Task A_refused_message_gives_its_seq_back_and_frees_its_ref_once_nothing_of_the_room_is_unstored()
    {
        var store = new HandStore();
        var log = new LocalRoomLog(store, new LocalRoomBus(), Options.Create(new ChatHubOptions()), TimeProvider.System);
        await log.LoadAsync("r", 10, CancellationToken.None);
        var answers = new Answers();

        log.Append(Request("one", "a"), answers);
        log.Append(Request("two", "b"), answers);
        log.Append(Request("one", "a"), answers); // a resend while the first is unstored: the first's seq
        Assert.Equal((AppendOutcome.Duplicate, 1L), answers.Next());

        // The store refuses #1; #2 is still out, so the counter stays until it has failed too (the store refuses a
        // room's later messages once one failed).
        store.Fail(0);
        Assert.Equal((AppendOutcome.Unavailable, 1L), answers.Next());
        log.Append(Request("three", "c"), answers);
        Assert.Equal(3, store.Pending[^1].Message.Seq);
        store.Fail(1);
        Assert.Equal((AppendOutcome.Unavailable, 2L), answers.Next());
        store.Fail(2);
        Assert.Equal((AppendOutcome.Unavailable, 3L), answers.Next());

        // Nothing unstored: numbering starts again at the refused seq, and ref "a" is new again.
        log.Append(Request("one", "a"), answers);
        Assert.Equal(1, store.Pending[^1].Message.Seq);
        store.Store(3);
        Assert.Equal((AppendOutcome.Stored, 1L), answers.Next());
    }

    private static AppendRequest Request(string text, string reference) =>
        new("r", "ann", text, reference, Timestamps.NowTruncated(TimeProvider.System));

    private sealed class Answers : IAppendCallback
    {
        private readonly Queue<(AppendOutcome, long)> _answers = new();

        public void OnAppended(AppendRequest request, AppendResult result) => _answers.Enqueue((result.Outcome, result.Seq));

        /// <summary>The log answers on the store's call, so the answer is already here.</summary>
        public (AppendOutcome, long) Next()
        {
            Assert.True(_answers.TryDequeue(out var answer), "no answer yet");
            return answer;
        }
    }

    /// <summary>Keeps every append until the test stores or fails it (by its index among all appends).</summary>
    private sealed class HandStore : IHistoryStore
    {
        public List<(ChatMessage Message, IAppendCompletion Completion)> Pending { get; } = [];

        public bool IsHealthy => true;

        public void Store(int index) => Pending[index].Completion.OnAppended(Pending[index].Message);

        public void Fail(int index) => Pending[index].Completion.OnAppendFailed(Pending[index].Message);

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<StoredRoom>> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<StoredRoom>>([]);

        public Task<RoomHistory> LoadAsync(string room, int limit, CancellationToken cancellationToken) =>
            Task.FromResult(new RoomHistory([], 0));

        public void Append(ChatMessage message, IAppendCompletion completion) => Pending.Add((message, completion));

        public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
