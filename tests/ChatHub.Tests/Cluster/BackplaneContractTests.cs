using System.Threading.Channels;
using ChatHub.Server.Backplane;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Cluster;

/// <summary>
/// The contracts of the room log, bus and membership, run unchanged against one node's in-process implementations
/// and the cluster's Redis ones (taken from a real server's services, as the server itself composes them).
/// </summary>
[Collection(ClusterCollection.Name)]
public abstract class BackplaneContractTests : IAsyncLifetime
{
    protected const int Window = 5;

    private TestServer _server = null!;

    private protected IRoomLog Log => _server.App.Services.GetRequiredService<IRoomLog>();

    private protected IRoomBus Bus => _server.App.Services.GetRequiredService<IRoomBus>();

    private protected IRoomMembership Membership => _server.App.Services.GetRequiredService<IRoomMembership>();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync([$"Storage:HistoryWindow={Window}", .. await SettingsAsync()]);

    public virtual async Task DisposeAsync() => await _server.DisposeAsync();

    protected abstract Task<string[]> SettingsAsync();

    [Fact]
    public async Task Appends_are_numbered_from_one_in_order_and_published_in_order()
    {
        var sink = new RecordingSink();
        await Bus.SubscribeAsync("numbered", sink, CancellationToken.None);
        var answers = new RecordingCallback();
        for (int i = 0; i < 4; i++)
        {
            Log.Append(Request("numbered", "ann", $"t{i}", reference: null), answers);
        }

        // Answers may come in any order (a cluster's complete on Redis's threads); the numbers follow the appends.
        var results = new List<(AppendRequest Request, AppendResult Result)>();
        for (int i = 1; i <= 4; i++)
        {
            results.Add(await answers.NextAsync());
        }

        Assert.Equal(Enumerable.Range(1, 4).Select(i => (AppendOutcome.Stored, (long)i, $"t{i - 1}")),
            results.OrderBy(r => r.Result.Seq).Select(r => (r.Result.Outcome, r.Result.Seq, r.Request.Text)));

        for (int i = 1; i <= 4; i++)
        {
            var message = await sink.Messages.Reader.ReadAsync().AsTask().WaitAsync(WsClient.Timeout);
            Assert.Equal((long)i, message.Seq);
        }

        Bus.Unsubscribe("numbered", sink);
    }

    [Fact]
    public async Task A_repeated_ref_from_the_same_name_is_a_duplicate_of_the_first_seq()
    {
        var answers = new RecordingCallback();
        Log.Append(Request("dedup", "ann", "first", "r1"), answers);
        Log.Append(Request("dedup", "ANN", "again", "r1"), answers);
        Log.Append(Request("dedup", "bob", "other name", "r1"), answers);
        var results = new Dictionary<string, AppendResult>();
        for (int i = 0; i < 3; i++)
        {
            var (request, result) = await answers.NextAsync();
            results[request.Text] = result;
        }

        Assert.Equal(new AppendResult(AppendOutcome.Stored, 1), results["first"]);
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 1), results["again"]);
        Assert.Equal(new AppendResult(AppendOutcome.Stored, 2), results["other name"]);
        Assert.Equal(["first", "other name"], (await Log.LoadAsync("dedup", 10, CancellationToken.None)).Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task The_log_keeps_the_window_and_the_seq_outlives_trimmed_messages()
    {
        var answers = new RecordingCallback();
        for (int i = 1; i <= Window + 3; i++)
        {
            Log.Append(Request("trim", "ann", $"t{i}", null), answers);
            await answers.NextAsync();
        }

        var history = await Log.LoadAsync("trim", 100, CancellationToken.None);
        Assert.Equal(Window + 3, history.LastSeq);
        Assert.Equal(Enumerable.Range(4, Window).Select(i => (long)i), history.Messages.Select(m => m.Seq));
        Assert.Equal([7L, 8L], (await Log.ReadAfterAsync("trim", 6, 100, CancellationToken.None)).Select(m => m.Seq));
        Assert.Equal(Enumerable.Range(4, 2).Select(i => (long)i), (await Log.ReadAfterAsync("trim", 0, 2, CancellationToken.None)).Select(m => m.Seq));
    }

    [Fact]
    public async Task A_name_is_one_member_however_many_connections_and_changes_are_published_once()
    {
        var sink = new RecordingSink();
        await Bus.SubscribeAsync("members", sink, CancellationToken.None);
        Assert.True((await Membership.JoinAsync("members", "ann", 1, CancellationToken.None)).Changed);
        Assert.False((await Membership.JoinAsync("members", "ann", 2, CancellationToken.None)).Changed);
        var withBob = await Membership.JoinAsync("members", "bob", 3, CancellationToken.None);
        Assert.Equal(["ann", "bob"], withBob.Members.Order(StringComparer.Ordinal));
        Assert.Contains(await Membership.ListRoomsAsync(null, 100, CancellationToken.None), r => r == new RoomInfo("members", 2));

        Assert.False((await Membership.LeaveAsync("members", "ann", 1, CancellationToken.None)).Changed);
        Assert.True((await Membership.LeaveAsync("members", "ann", 2, CancellationToken.None)).Changed);
        Assert.True((await Membership.RenameAsync("members", "bob", "robert", 3, CancellationToken.None)).Changed);
        Assert.Equal(["robert"], await Membership.MembersAsync("members", CancellationToken.None));

        var expected = new[] { ("join", "ann", (string?)null, 1), ("join", "bob", null, 2), ("leave", "ann", null, 1), ("rename", "bob", "robert", 1) };
        await AssertPresenceAsync(sink, expected);
        Bus.Unsubscribe("members", sink);
    }

    [Fact]
    public async Task A_connection_renaming_away_from_a_name_with_other_connections_is_the_new_names_join_and_the_old_leaves_with_its_last()
    {
        // A user on two devices (connections 1 and 2 of dan); device 2 takes another name while dan stays on device 1.
        var sink = new RecordingSink();
        await Bus.SubscribeAsync("devices", sink, CancellationToken.None);
        await Membership.JoinAsync("devices", "dan", 1, CancellationToken.None);
        await Membership.JoinAsync("devices", "dan", 2, CancellationToken.None);
        Assert.True((await Membership.RenameAsync("devices", "dan", "eve", 2, CancellationToken.None)).Changed);
        Assert.Equal(["dan", "eve"], (await Membership.MembersAsync("devices", CancellationToken.None)).Order(StringComparer.Ordinal));
        Assert.True((await Membership.LeaveAsync("devices", "dan", 1, CancellationToken.None)).Changed);
        Assert.Equal(["eve"], await Membership.MembersAsync("devices", CancellationToken.None));

        var expected = new[] { ("join", "dan", (string?)null, 1), ("join", "eve", null, 2), ("leave", "dan", null, 1) };
        await AssertPresenceAsync(sink, expected);
        Bus.Unsubscribe("devices", sink);
    }

    [Fact]
    public async Task The_room_list_is_paged_by_name_over_rooms_with_history_and_rooms_with_members()
    {
        var answers = new RecordingCallback();
        foreach (string room in new[] { "ra", "rc", "re" })
        {
            Log.Append(Request(room, "ann", "x", reference: null), answers);
            Assert.Equal(AppendOutcome.Stored, (await answers.NextAsync()).Result.Outcome);
        }

        await Membership.JoinAsync("rb", "ann", 1, CancellationToken.None); // members, no history
        await Membership.JoinAsync("rc", "bob", 2, CancellationToken.None); // both

        Assert.Equal([new RoomInfo("ra", 0), new RoomInfo("rb", 1)], await Membership.ListRoomsAsync(null, 2, CancellationToken.None));
        Assert.Equal([new RoomInfo("rc", 1), new RoomInfo("re", 0)], await Membership.ListRoomsAsync("rb", 2, CancellationToken.None));
        Assert.Empty(await Membership.ListRoomsAsync("re", 2, CancellationToken.None));
        Assert.Equal(["rc", "re"], (await Log.ListRoomsAsync("rb", 5, CancellationToken.None)).Select(r => r.Room));
    }

    private static AppendRequest Request(string room, string from, string text, string? reference) =>
        new(room, from, text, reference, Timestamps.NowTruncated(TimeProvider.System));

    private sealed class RecordingCallback : IAppendCallback
    {
        private readonly Channel<(AppendRequest, AppendResult)> _answers = Channel.CreateUnbounded<(AppendRequest, AppendResult)>();

        public void OnAppended(AppendRequest request, AppendResult result) => _answers.Writer.TryWrite((request, result));

        public async Task<(AppendRequest Request, AppendResult Result)> NextAsync() =>
            await _answers.Reader.ReadAsync().AsTask().WaitAsync(WsClient.Timeout);
    }

    /// <summary>The sink heard exactly these presence changes, in this order, and nothing more.</summary>
    private static async Task AssertPresenceAsync(RecordingSink sink, (string Kind, string Name, string? To, int Members)[] expected)
    {
        foreach (var (kind, name, to, members) in expected)
        {
            var change = await sink.Presence.Reader.ReadAsync().AsTask().WaitAsync(WsClient.Timeout);
            Assert.Equal((kind, name, to, members), (change.Kind, change.Name, change.To, change.Members));
        }

        Assert.False(sink.Presence.Reader.TryRead(out _));
    }

    private sealed class RecordingSink : IRoomSink
    {
        public Channel<ChatMessage> Messages { get; } = Channel.CreateUnbounded<ChatMessage>();

        public Channel<PresenceChange> Presence { get; } = Channel.CreateUnbounded<PresenceChange>();

        public void OnMessage(ChatMessage message) => Messages.Writer.TryWrite(message);

        public void OnPresence(PresenceChange change) => Presence.Writer.TryWrite(change);

        public long LastSeq => 0;

        public void OnResumed()
        {
        }
    }
}

[Collection(ClusterCollection.Name)]
public sealed class LocalBackplaneContractTests : BackplaneContractTests
{
    protected override Task<string[]> SettingsAsync() => Task.FromResult<string[]>([]);
}

[Collection(ClusterCollection.Name)]
public sealed class RedisBackplaneContractTests : BackplaneContractTests
{
    private RedisServer? _redis;

    protected override async Task<string[]> SettingsAsync()
    {
        _redis = await RedisServer.StartAsync();
        return [$"Redis={_redis.Configuration}"];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
