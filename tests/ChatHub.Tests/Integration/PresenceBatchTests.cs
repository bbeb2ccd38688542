using System.Net;
using System.Text.Json.Nodes;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// Presence batches (docs/protocol.md, "Presence batches"): a client that asks with <c>presence=batch</c> gets a
/// room's changes as one frame per tick, in order, before the room's next message; one that does not ask keeps
/// getting single <c>presence</c> events. The tick is set to its longest (5 s) where a test needs several changes
/// in one batch: the message that ends the test's changes is what sends the batch, not the clock.
/// </summary>
public sealed class PresenceBatchTests
{
    private const string LongTick = "Presence:BatchInterval=00:00:05";

    [Fact]
    public async Task Joins_leaves_and_renames_of_one_tick_arrive_as_one_batch_in_order_before_the_next_message()
    {
        await using var server = await TestServer.StartAsync(LongTick);
        await using var bob = await server.JoinedJsonAsync("name=bob&room=lobby"); // single events, as always
        await using var ann = await server.ConnectJsonAsync("name=ann&room=lobby&presence=batch");
        await ann.ExpectAsync("welcome");
        var annJoined = await ann.ExpectAsync("joined");

        await using (var carol = await server.ConnectJsonAsync("name=carol&room=lobby"))
        {
            await carol.ExpectAsync("welcome");
            await carol.ExpectAsync("joined");
            await carol.SendJsonAsync(new { type = "nick", name = "caroline" });
            await carol.WaitForAsync("nick");
            await carol.SendJsonAsync(new { type = "leave", room = "lobby" });
            await carol.WaitForAsync("left");
        }

        await using var dave = await server.ConnectJsonAsync("name=dave&room=lobby&presence=batch");
        await dave.ExpectAsync("welcome");
        var daveJoined = await dave.ExpectAsync("joined");
        await dave.SendJsonAsync(new { type = "say", room = "lobby", text = "hi", @ref = "d-1" });

        // One batch, every change in the order it happened (ann's own join included), then the message.
        var batch = await ann.ExpectAsync("presence_batch");
        Assert.Equal("lobby", (string?)batch["room"]);
        Assert.Equal(
            ["join ann", "join carol", "rename carol caroline", "leave caroline", "join dave"],
            Changes(batch));
        Assert.Equal(3, (int)batch["memberCount"]!);
        var message = await ann.ExpectAsync("message");
        Assert.Equal("dave", (string?)message["from"]);
        Assert.Equal(["ann", "bob", "dave"], Apply(annJoined, batch));

        // dave's batch is the same frame: it starts with changes its joined list already holds, which change nothing.
        var daveBatch = await dave.ExpectAsync("presence_batch");
        Assert.Equal(Changes(batch), Changes(daveBatch));
        Assert.Equal(["ann", "bob", "dave"], Apply(daveJoined, daveBatch));
        await dave.ExpectAsync("message");
        await dave.ExpectAsync("ack");

        // bob, who did not ask, gets exactly the single events, at once, and never a batch.
        Assert.Equal(
            ["join ann", "join carol", "rename carol caroline", "leave caroline", "join dave"],
            await SingleEventsUntilMessageAsync(bob));
    }

    [Fact]
    public async Task A_batch_goes_out_within_a_tick_when_the_room_says_nothing()
    {
        await using var server = await TestServer.StartAsync();
        await using var ann = await server.JoinedJsonAsync("name=ann&room=lobby&presence=batch");
        await using var carol = await server.ConnectJsonAsync("name=carol&room=lobby");
        await carol.ExpectAsync("welcome");

        var frames = new List<JsonObject>();
        while (!frames.Any(f => Changes(f).Contains("join carol")))
        {
            var frame = await ann.NextAsync();
            Assert.Equal("presence_batch", (string?)frame["type"]);
            frames.Add(frame);
        }

        Assert.Equal(2, (int)frames[^1]["memberCount"]!);
    }

    [Fact]
    public async Task A_member_joining_and_leaving_within_one_tick_is_reported_both_times()
    {
        await using var server = await TestServer.StartAsync(LongTick);
        await using var ann = await server.ConnectJsonAsync("name=ann&room=lobby&presence=batch");
        await ann.ExpectAsync("welcome");
        var joined = await ann.ExpectAsync("joined");
        for (int i = 0; i < 2; i++)
        {
            await using var erin = await server.JoinedJsonAsync("name=erin&room=lobby");
            await erin.SendJsonAsync(new { type = "leave", room = "lobby" });
            await erin.WaitForAsync("left");
        }

        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = "anyone?" });
        var batch = await ann.ExpectAsync("presence_batch");
        Assert.Equal(["join ann", "join erin", "leave erin", "join erin", "leave erin"], Changes(batch));
        Assert.Equal(1, (int)batch["memberCount"]!);
        Assert.Equal(["ann"], Apply(joined, batch));
        await ann.ExpectAsync("message");
    }

    [Fact]
    public async Task A_full_batch_goes_out_without_waiting_for_the_tick()
    {
        await using var server = await TestServer.StartAsync(LongTick, "Presence:MaxBatchChanges=3");
        await using var ann = await server.JoinedJsonAsync("name=ann&room=lobby&presence=batch");
        var others = new List<WsClient>();
        try
        {
            foreach (string name in new[] { "p1", "p2" })
            {
                var other = await server.ConnectJsonAsync($"name={name}&room=lobby");
                others.Add(other);
                await other.ExpectAsync("welcome");
                await other.ExpectAsync("joined");
            }

            // ann's own join and two more: three changes fill the batch long before the 5 s tick.
            var batch = await ann.ExpectAsync("presence_batch");
            Assert.Equal(["join ann", "join p1", "join p2"], Changes(batch));
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_text_format_shows_a_batch_as_one_line_before_the_next_message()
    {
        await using var server = await TestServer.StartAsync(LongTick);
        await using var ann = await server.ConnectTextAsync("name=ann&room=lobby&presence=batch");
        Assert.Equal("* welcome ann — /help lists the commands", await ann.ReceiveAsync());
        Assert.Equal("* you joined lobby (1 member: ann)", await ann.ReceiveAsync());
        await using var bob = await server.ConnectTextAsync("name=bob&room=lobby");
        await bob.WaitForLineAsync("you joined lobby");
        await bob.SendTextAsync("/nick bobby");
        await bob.WaitForLineAsync("you are now bobby");
        await bob.SendTextAsync("hello");

        Assert.Equal("* lobby: ann joined, bob joined, bob is now bobby (2 members)", await ann.ReceiveAsync());
        Assert.Equal("[lobby] bobby: hello", await ann.ReceiveAsync());
    }

    [Theory]
    [InlineData("presence=event")]
    [InlineData("")]
    public async Task A_client_that_does_not_ask_gets_single_events(string query)
    {
        await using var server = await TestServer.StartAsync(LongTick);
        await using var ann = await server.ConnectJsonAsync("name=ann&room=lobby&" + query);
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await server.JoinedJsonAsync("name=bob&room=lobby&presence=batch");
        await bob.SendJsonAsync(new { type = "say", room = "lobby", text = "hi" });

        Assert.Equal(["join bob"], await SingleEventsUntilMessageAsync(ann));
    }

    [Fact]
    public async Task The_presence_frame_counter_counts_single_events_and_batches()
    {
        await using var server = await TestServer.StartAsync(LongTick);
        await using var bob = await server.JoinedJsonAsync("name=bob&room=lobby");
        await using var ann = await server.JoinedJsonAsync("name=ann&room=lobby&presence=batch");
        await using var carol = await server.JoinedJsonAsync("name=carol&room=lobby");
        await carol.SendJsonAsync(new { type = "say", room = "lobby", text = "hi" });
        await ann.ExpectAsync("presence_batch");
        await ann.ExpectAsync("message");
        await bob.WaitForAsync("message");

        // bob: ann's join and carol's, one frame each; ann: both changes (and her own join) in one batch.
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        double frames = await PresenceFramesAsync(http);
        while (frames < 3 && DateTime.UtcNow < deadline)
        {
            // The exporter may answer from a scrape a moment old: ask again until it shows the frames just sent.
            await Task.Delay(100);
            frames = await PresenceFramesAsync(http);
        }

        Assert.Equal(3, frames);
    }

    [Fact]
    public async Task An_unknown_presence_mode_is_refused_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/ws?presence=diff"));
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<double> PresenceFramesAsync(HttpClient http)
    {
        string metrics = await http.GetStringAsync("/metrics");
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("chathub_presence_frames_total", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A batch's changes as "event name [to]" strings.</summary>
    internal static List<string> Changes(JsonObject batch) =>
        batch["changes"]!.AsArray().Select(c => string.Join(' ', new[] { (string?)c!["event"], (string?)c["name"], (string?)c["to"] }.Where(s => s is not null))).ToList();

    /// <summary>The member list a client rebuilds: its joined list, then each change applied as an assignment.</summary>
    internal static List<string> Apply(JsonObject joined, JsonObject batch)
    {
        var members = new HashSet<string>(joined["members"]!.AsArray().Select(n => (string)n!), StringComparer.OrdinalIgnoreCase);
        foreach (var change in batch["changes"]!.AsArray())
        {
            string name = (string)change!["name"]!;
            switch ((string?)change["event"])
            {
                case "join": members.Add(name); break;
                case "leave": members.Remove(name); break;
                case "rename": members.Remove(name); members.Add((string)change["to"]!); break;
            }
        }

        return members.Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<List<string>> SingleEventsUntilMessageAsync(WsClient client)
    {
        var events = new List<string>();
        while (true)
        {
            var frame = await client.NextAsync();
            string? type = (string?)frame["type"];
            Assert.NotEqual("presence_batch", type);
            if (type == "message")
            {
                return events;
            }

            if (type == "presence")
            {
                events.Add(string.Join(' ', new[] { (string?)frame["event"], (string?)frame["name"], (string?)frame["to"] }.Where(s => s is not null)));
            }
        }
    }
}
