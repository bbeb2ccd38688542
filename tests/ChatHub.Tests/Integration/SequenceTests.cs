using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>seq: from 1, +1 per message, the same order for every member; resume with since; ref dedup.</summary>
public sealed class SequenceTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync("Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000", "Storage:HistoryWindow=20");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Concurrent_senders_in_one_room_are_seen_in_one_seq_order_by_everyone()
    {
        const int senders = 4, perSender = 200;
        var clients = new List<WsClient>();
        for (int i = 0; i < senders; i++)
        {
            var c = await _server.ConnectJsonAsync($"name=s{i}&room=race");
            await c.ExpectAsync("welcome");
            await c.ExpectAsync("joined");
            clients.Add(c);
        }

        // Everyone reads everything; every member must see seq 1..N with no gap, and each sender's own
        // messages in the order it sent them.
        var readers = clients.Select(c => Task.Run(async () =>
        {
            var seen = new List<(long Seq, string From, string Text)>();
            while (seen.Count < senders * perSender)
            {
                var m = await c.WaitForAsync("message");
                seen.Add(((long)m["seq"]!, (string)m["from"]!, (string)m["text"]!));
            }

            return seen;
        })).ToList();

        await Task.WhenAll(clients.Select((c, i) => Task.Run(async () =>
        {
            for (int k = 0; k < perSender; k++)
            {
                await c.SendJsonAsync(new { type = "say", room = "race", text = $"{i}:{k}" });
            }
        })));

        var views = await Task.WhenAll(readers);
        var reference = views[0];
        Assert.Equal(Enumerable.Range(1, senders * perSender).Select(i => (long)i), reference.Select(m => m.Seq));
        foreach (var view in views)
        {
            Assert.Equal(reference, view);
        }

        for (int i = 0; i < senders; i++)
        {
            var own = reference.Where(m => m.From == $"s{i}").Select(m => m.Text).ToList();
            Assert.Equal(Enumerable.Range(0, perSender).Select(k => $"{i}:{k}"), own);
        }

        foreach (var c in clients)
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Join_with_since_returns_every_kept_message_after_it()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=resume");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await JsonProtocolTests.SayManyAsync(ann, "resume", 12);

        await using var bob = await _server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "join", room = "resume", since = 9 });
        var joined = await bob.ExpectAsync("joined");
        Assert.Equal([10L, 11L, 12L], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.False((bool)joined["truncated"]!);

        await bob.SendJsonAsync(new { type = "join", room = "resume", since = 12 });
        joined = await bob.ExpectAsync("joined");
        Assert.Empty(joined["history"]!.AsArray());
        Assert.False((bool)joined["truncated"]!);
    }

    [Fact]
    public async Task Since_older_than_the_window_is_truncated()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=longago");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await JsonProtocolTests.SayManyAsync(ann, "longago", 30); // window is 20: seq 11..30 kept

        await ann.SendJsonAsync(new { type = "join", room = "longago", since = 5 });
        var joined = await ann.ExpectAsync("joined");
        Assert.True((bool)joined["truncated"]!);
        Assert.Equal(Enumerable.Range(11, 20).Select(i => (long)i), joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));

        await ann.SendJsonAsync(new { type = "join", room = "longago", since = 10 });
        Assert.False((bool)(await ann.ExpectAsync("joined"))["truncated"]!);
    }

    [Fact]
    public async Task Since_beyond_the_rooms_last_seq_means_lost_history_and_gets_the_room_as_it_is()
    {
        // A client that saw seq 7 of a room whose store forgot it (an in-memory store restarted) and now holds seq 1..2.
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=reborn");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await JsonProtocolTests.SayManyAsync(ann, "reborn", 2);

        await using var bob = await _server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "join", room = "reborn", since = 7 });
        var joined = await bob.ExpectAsync("joined");
        Assert.True((bool)joined["truncated"]!);
        Assert.Equal([1L, 2L], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
    }

    [Fact]
    public async Task A_repeated_ref_gets_the_first_ack_and_is_not_stored_again()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=dedup");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await _server.ConnectJsonAsync("name=bob&room=dedup");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        await ann.ExpectAsync("presence");

        await ann.SendJsonAsync(new { type = "say", room = "dedup", text = "once", @ref = "same" });
        await ann.ExpectAsync("message");
        Assert.Equal(1, (long)(await ann.ExpectAsync("ack"))["seq"]!);

        await ann.SendJsonAsync(new { type = "say", room = "dedup", text = "once", @ref = "same" });
        var second = await ann.ExpectAsync("ack"); // no second message frame before it
        Assert.Equal(1, (long)second["seq"]!);
        Assert.Equal("same", (string?)second["ref"]);

        // Another name may use the same ref: refs belong to a name.
        await bob.SendJsonAsync(new { type = "say", room = "dedup", text = "mine", @ref = "same" });
        Assert.Equal(1, (long)(await bob.ExpectAsync("message"))["seq"]!); // ann's, first
        Assert.Equal(2, (long)(await bob.ExpectAsync("message"))["seq"]!);
        Assert.Equal(2, (long)(await bob.ExpectAsync("ack"))["seq"]!);

        await ann.SendJsonAsync(new { type = "history", room = "dedup" });
        var history = await ann.WaitForAsync("history");
        Assert.Equal(["once", "mine"], history["messages"]!.AsArray().Select(m => (string)m!["text"]!));
    }

    [Fact]
    public async Task A_resend_after_reconnect_is_deduplicated()
    {
        var first = await _server.ConnectJsonAsync("name=ann&room=flaky");
        await first.ExpectAsync("welcome");
        await first.ExpectAsync("joined");
        await first.SendJsonAsync(new { type = "say", room = "flaky", text = "maybe lost", @ref = "c-1" });
        await first.DisposeAsync(); // gone before reading its ack

        // The server frees a name before it answers the close, so the name is free now.
        await using var again = await _server.ConnectJsonAsync("name=ann&room=flaky");
        Assert.Equal("ann", await again.ReadWelcomeNameAsync());
        await again.ExpectAsync("joined");
        await again.SendJsonAsync(new { type = "say", room = "flaky", text = "maybe lost", @ref = "c-1" });
        var ack = await again.WaitForAsync("ack");
        Assert.Equal(1, (long)ack["seq"]!);

        await again.SendJsonAsync(new { type = "history", room = "flaky" });
        Assert.Single((await again.WaitForAsync("history"))["messages"]!.AsArray());
    }
}
