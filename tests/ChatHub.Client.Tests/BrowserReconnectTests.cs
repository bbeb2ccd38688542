using ChatHub.Client.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>
/// The browser client loses its socket and comes back by itself: it resumes
/// each room with `since`, resends what was not acked with the same ref, keeps
/// its name, and shows every message exactly once.
/// The page is loaded through <see cref="TcpDropProxy"/>, which is how the tests
/// break the network under it and decide when the server is reachable again.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserReconnectTests(BrowserFixture browser) : IAsyncLifetime
{
    private ChatServer _server = null!;
    private TcpDropProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _server = await ChatServer.StartAsync();
        _proxy = new TcpDropProxy(_server.BaseUri);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task After_a_server_restart_nothing_is_lost_or_shown_twice()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _proxy.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await using (ProtocolClient bob = await ProtocolClient.ConnectAsync(_server, "bob"))
        {
            await bob.JoinAsync("lobby");
            await bob.SayAsync("lobby", "before 1");
            await ann.SendAsync("before 2");
            await bob.WaitForMessageAsync("lobby", "before 2");
            await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["before 1", "before 2"]);

            // The server goes away (1001 to every client) and stays unreachable for now.
            _proxy.Refusing = true;
            await _server.RestartAsync();
        }
        _proxy.Upstream = _server.BaseUri;
        await Expect(ann.Connection).ToHaveAttributeAsync("data-state", "reconnecting");
        await Expect(ann.Connection).ToContainTextAsync("Reconnecting");

        // Meanwhile the conversation goes on without ann, and ann writes while offline.
        await using ProtocolClient bob2 = await ProtocolClient.ConnectAsync(_server, "bob");
        await bob2.JoinAsync("lobby");
        await bob2.SayAsync("lobby", "while you were away 1");
        await bob2.SayAsync("lobby", "while you were away 2");
        await ann.SendAsync("written offline");
        await Expect(ann.Pending.Filter(new() { HasText = "written offline" })).ToHaveAttributeAsync("data-state", "sending");
        await Expect(ann.Pending.Filter(new() { HasText = "written offline" })).ToContainTextAsync("Waiting for the connection");
        await Screenshots.SaveAsync(ann.Page, "reconnecting");

        // The network is back: the client reconnects by itself, under the same name.
        _proxy.Refusing = false;
        await ann.ExpectConnectedAsAsync("ann");
        await bob2.WaitForMessageAsync("lobby", "written offline");
        await Expect(ann.Pending).ToHaveCountAsync(0);

        // A last exchange after the resume; once it is seen, everything before it has arrived.
        await bob2.SayAsync("lobby", "welcome back");
        await ann.SendAsync("thanks");
        await bob2.WaitForMessageAsync("lobby", "thanks");
        string[] expected = ["before 1", "before 2", "while you were away 1", "while you were away 2", "written offline", "welcome back", "thanks"];
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(expected);
        Assert.Equal(Enumerable.Range(1, expected.Length).Select(i => (long)i), await ann.ShownSeqsAsync());
        Assert.Equal(1, bob2.CountMessages("lobby", "written offline"));
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "bob"]);
        Assert.Empty(ann.ScriptErrors);
    }

    [Fact]
    public async Task A_resume_beyond_the_kept_history_says_that_messages_were_missed()
    {
        // A server that keeps only the newest 10 messages of a room.
        await using ChatServer server = await ChatServer.StartAsync(
            "--ChatHub:Storage:HistoryWindow=10", "--ChatHub:Limits:MessagesPerSecond=1000", "--ChatHub:Limits:MessageBurst=1000");
        await using var proxy = new TcpDropProxy(server.BaseUri);
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, proxy.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(server, "bob");
        await bob.JoinAsync("lobby");
        await bob.SayAsync("lobby", "seen before the drop");
        await Expect(ann.MessageWithText("seen before the drop")).ToHaveCountAsync(1);

        proxy.Refusing = true;
        proxy.DropAll();
        await Expect(ann.Connection).ToHaveAttributeAsync("data-state", "reconnecting");
        for (int i = 1; i <= 25; i++) await bob.SayAsync("lobby", $"missed {i:D2}");
        proxy.Refusing = false;

        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.NoteWithText("no longer kept by the server")).ToHaveCountAsync(1);
        string[] expected = ["seen before the drop", .. Enumerable.Range(16, 10).Select(i => $"missed {i:D2}")];
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(expected);
        // The note marks the gap: after what was seen, before what is kept.
        IReadOnlyList<string> lines = await ann.Page.Locator("#message-list li").AllTextContentsAsync();
        int note = lines.ToList().FindIndex(l => l.Contains("no longer kept by the server", StringComparison.Ordinal));
        Assert.True(lines[note - 1].EndsWith("seen before the drop", StringComparison.Ordinal), string.Join(" | ", lines));
        Assert.True(lines[note + 1].EndsWith("missed 16", StringComparison.Ordinal), string.Join(" | ", lines));
    }

    [Fact]
    public async Task After_a_restart_that_lost_history_new_messages_still_show()
    {
        // The in-memory store forgets everything on restart, so seq starts at 1 again.
        await using ChatServer server = await ChatServer.StartAsync("--ChatHub:Storage:Provider=Memory");
        await using var proxy = new TcpDropProxy(server.BaseUri);
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, proxy.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await ann.SendAsync("one");
        await ann.SendAsync("two");
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["one", "two"]);

        proxy.Refusing = true;
        await server.RestartAsync();
        proxy.Upstream = server.BaseUri;
        proxy.Refusing = false;
        await ann.ExpectConnectedAsAsync("ann");

        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(server, "bob");
        await bob.JoinAsync("lobby");
        Assert.Equal(1, await bob.SayAsync("lobby", "a new beginning"));
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["a new beginning"]);
        await Expect(ann.NoteWithText("started its history over")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_page_closed_as_a_slow_consumer_catches_up_after_reconnecting()
    {
        // Small outbox and a short close timeout, so a reader that stops reading is closed (1013) soon.
        await using ChatServer server = await ChatServer.StartAsync(
            "--ChatHub:Limits:OutboxCapacity=64", "--ChatHub:Connections:CloseTimeout=00:00:01", "--ChatHub:Storage:HistoryWindow=5000",
            "--ChatHub:Limits:MessagesPerSecond=100000", "--ChatHub:Limits:MessageBurst=100000");
        await using var proxy = new TcpDropProxy(server.BaseUri);
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, proxy.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(server, "bob");
        await bob.JoinAsync("lobby");

        // Ann's browser stops taking data while bob floods the room: more than the
        // socket buffers and her outbox hold, so the server gives up on her.
        // Bob waits for each ack, so his own outbox stays short; he stops once ann is gone.
        proxy.StallDownstream();
        string padding = new('x', 3000);
        int flood = 0;
        while (!bob.Received.Any(f => ProtocolClient.Type(f) == "presence" && (string?)f["name"] == "ann" && (string?)f["event"] == "leave"))
        {
            Assert.True(flood < 5000, "the server never closed the stalled reader");
            flood++;
            await bob.SayAsync("lobby", $"flood {flood:D4} {padding}");
        }

        // Her browser reads what was already on its way, finds the socket gone,
        // reconnects and resumes from the last message it saw.
        proxy.ResumeDownstream();
        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.Messages).ToHaveCountAsync(flood, new() { Timeout = 30_000 });
        long[] seqs = await ann.ShownSeqsAsync();
        Assert.Equal(Enumerable.Range(1, flood).Select(i => (long)i), seqs);
        Assert.Empty(ann.ScriptErrors);
    }

    [Fact]
    public async Task A_taken_name_makes_a_guest_who_claims_the_name_once_it_is_free()
    {
        ProtocolClient holder = await ProtocolClient.ConnectAsync(_server, "carol");
        await using ChatPage carol = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "carol");
        await Expect(carol.Connection).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Connected as guest-"));
        await Expect(carol.Page.Locator("#nick-error")).ToContainTextAsync("carol is taken");

        // The old holder goes away (as a dropped connection of the same person would).
        await holder.DisposeAsync();
        await carol.ExpectConnectedAsAsync("carol");
        await Expect(carol.Page.Locator("#nick-error")).ToBeEmptyAsync();
    }

    [Fact]
    public async Task A_message_whose_ack_was_lost_is_resent_with_its_ref_and_shown_once()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _proxy.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(_server, "bob");
        await bob.JoinAsync("lobby");
        await ann.SendAsync("first");
        await bob.WaitForMessageAsync("lobby", "first");

        // The server stores and broadcasts ann's message, but its ack (and the
        // broadcast to ann) never reach her: then the connection breaks.
        _proxy.SwallowingDownstream = true;
        await ann.SendAsync("ack lost");
        await bob.WaitForMessageAsync("lobby", "ack lost");
        await Expect(ann.Pending.Filter(new() { HasText = "ack lost" })).ToHaveAttributeAsync("data-state", "sending");
        _proxy.DropAll();
        _proxy.SwallowingDownstream = false;

        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.Pending).ToHaveCountAsync(0);
        await ann.SendAsync("after the drop");
        await bob.WaitForMessageAsync("lobby", "after the drop");

        // The resend carried the same ref, so the server did not store it again.
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["first", "ack lost", "after the drop"]);
        long[] seqs = await ann.ShownSeqsAsync();
        Assert.Equal(new long[] { 1, 2, 3 }, seqs);
        Assert.Equal(1, bob.CountMessages("lobby", "ack lost"));
        Assert.Empty(ann.ScriptErrors);
    }
}
