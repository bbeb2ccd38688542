using System.Text.Json.Nodes;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Every client request and server reply of the JSON format, against a real server over real sockets.</summary>
public sealed class JsonProtocolTests : IAsyncLifetime
{
    private TestServer _server = null!;

    // A generous rate limit: these tests send bursts to build history; the limit itself is tested in ErrorTests.
    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Limits:MessagesPerSecond=1000", "Limits:MessageBurst=1000");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Welcome_comes_first_with_name_session_server_and_limits()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann");
        var welcome = await ann.ExpectAsync("welcome");
        Assert.Equal("ann", (string?)welcome["name"]);
        Assert.False(string.IsNullOrEmpty((string?)welcome["session"]));
        Assert.StartsWith("ChatHub/", (string?)welcome["server"]);
        var limits = welcome["limits"]!.AsObject();
        Assert.Equal(4096, (int)limits["maxMessageBytes"]!);
        Assert.Equal(50, (int)limits["maxRooms"]!);
        Assert.Equal(1000, (int)limits["ratePerSecond"]!);
    }

    [Fact]
    public async Task Without_a_name_the_client_is_a_guest()
    {
        await using var guest = await _server.ConnectJsonAsync();
        string name = await guest.ReadWelcomeNameAsync();
        Assert.Matches("^guest-[a-z0-9]+$", name);
    }

    [Fact]
    public async Task Rooms_in_the_query_are_joined_after_the_welcome()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=a&room=b");
        await ann.ExpectAsync("welcome");
        var first = await ann.ExpectAsync("joined");
        var second = await ann.ExpectAsync("joined");
        Assert.Equal(["a", "b"], new[] { (string)first["room"]!, (string)second["room"]! }.Order());
        Assert.Equal("ann", (string?)first["members"]![0]);
        Assert.Empty(first["history"]!.AsArray());
        Assert.False((bool)first["truncated"]!);
    }

    /// <summary>
    /// The welcome waits for the query's rooms to answer so it leaves in one write with their joined; a room that
    /// cannot be joined answers at once and holds nothing back, in its place after the welcome.
    /// </summary>
    [Fact]
    public async Task A_room_in_the_query_that_cannot_be_joined_is_answered_after_the_welcome_and_the_others_join()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=a&room=%21%21&room=b");
        Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
        var error = await ann.ExpectAsync("error");
        Assert.Equal("invalid_room", (string?)error["code"]);
        var first = await ann.ExpectAsync("joined");
        var second = await ann.ExpectAsync("joined");
        Assert.Equal(["a", "b"], new[] { (string)first["room"]!, (string)second["room"]! }.Order());

        // The connection is not held afterwards: a request's reply leaves at once.
        await ann.SendJsonAsync(new { type = "who", room = "a" });
        var who = await ann.ExpectAsync("members");
        Assert.Equal(["ann"], who["members"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task Join_replies_joined_with_sorted_members_and_others_get_presence()
    {
        await using var bob = await _server.ConnectJsonAsync("name=bob&room=lobby");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        await using var ann = await _server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "join", room = "lobby" });
        var joined = await ann.ExpectAsync("joined");
        Assert.Equal("lobby", (string?)joined["room"]);
        Assert.Equal(["ann", "bob"], joined["members"]!.AsArray().Select(n => (string)n!));

        var presence = await bob.ExpectAsync("presence");
        Assert.Equal("lobby", (string?)presence["room"]);
        Assert.Equal("ann", (string?)presence["name"]);
        Assert.Equal("join", (string?)presence["event"]);
        Assert.Null(presence["to"]);
    }

    [Fact]
    public async Task Say_reaches_every_member_including_the_sender_then_the_sender_gets_ack()
    {
        var (ann, bob) = await TwoInRoomAsync("lobby");
        await using var _ = ann;
        await using var __ = bob;

        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = "hello", @ref = "r1" });
        var own = await ann.ExpectAsync("message");
        var ack = await ann.ExpectAsync("ack");
        var received = await bob.ExpectAsync("message");

        foreach (var m in new[] { own, received })
        {
            Assert.Equal("lobby", (string?)m["room"]);
            Assert.Equal(1, (long)m["seq"]!);
            Assert.Equal("ann", (string?)m["from"]);
            Assert.Equal("hello", (string?)m["text"]);
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", (string?)m["ts"]);
        }

        Assert.Equal("r1", (string?)ack["ref"]);
        Assert.Equal("lobby", (string?)ack["room"]);
        Assert.Equal(1, (long)ack["seq"]!);
    }

    [Fact]
    public async Task Ack_without_ref_carries_null_ref()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = "hi" });
        await ann.ExpectAsync("message");
        var ack = await ann.ExpectAsync("ack");
        Assert.True(ack.ContainsKey("ref"));
        Assert.Null(ack["ref"]);
        Assert.Equal(1, (long)ack["seq"]!);
    }

    [Fact]
    public async Task Dm_goes_to_the_named_user_and_back_to_the_sender_with_an_ack()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        await using var bob = await _server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");

        await ann.SendJsonAsync(new { type = "dm", to = "BOB", text = "psst", @ref = "d1" });
        var echo = await ann.ExpectAsync("dm");
        var ack = await ann.ExpectAsync("ack");
        var dm = await bob.ExpectAsync("dm");

        foreach (var d in new[] { echo, dm })
        {
            Assert.Equal("ann", (string?)d["from"]);
            Assert.Equal("bob", (string?)d["to"]);
            Assert.Equal("psst", (string?)d["text"]);
            Assert.NotNull((string?)d["ts"]);
        }

        Assert.Equal("d1", (string?)ack["ref"]);
        Assert.Null(ack["room"]);
        Assert.Null(ack["seq"]);
    }

    [Fact]
    public async Task A_dm_resent_with_the_same_ref_is_acked_but_delivered_once()
    {
        var first = await _server.ConnectJsonAsync("name=ann");
        await first.ExpectAsync("welcome");
        await using var bob = await _server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await first.SendJsonAsync(new { type = "dm", to = "bob", text = "only once", @ref = "dm-1" });
        await first.DisposeAsync(); // gone before its ack

        await using var again = await _server.ConnectJsonAsync("name=ann");
        Assert.Equal("ann", await again.ReadWelcomeNameAsync());
        await again.SendJsonAsync(new { type = "dm", to = "bob", text = "only once", @ref = "dm-1" });
        var ack = await again.ExpectAsync("ack");
        Assert.Equal("dm-1", (string?)ack["ref"]);

        await again.SendJsonAsync(new { type = "dm", to = "bob", text = "second", @ref = "dm-2" });
        await again.ExpectAsync("dm");
        await again.ExpectAsync("ack");
        Assert.Equal("only once", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("second", (string?)(await bob.ExpectAsync("dm"))["text"]); // no second "only once" before it
    }

    [Fact]
    public async Task Leave_replies_left_and_others_get_presence_leave()
    {
        var (ann, bob) = await TwoInRoomAsync("lobby");
        await using var _ = ann;
        await using var __ = bob;

        await ann.SendJsonAsync(new { type = "leave", room = "lobby" });
        Assert.Equal("lobby", (string?)(await ann.ExpectAsync("left"))["room"]);
        var presence = await bob.ExpectAsync("presence");
        Assert.Equal("leave", (string?)presence["event"]);
        Assert.Equal("ann", (string?)presence["name"]);
    }

    [Fact]
    public async Task Disconnect_is_a_leave_for_the_others()
    {
        var (ann, bob) = await TwoInRoomAsync("lobby");
        await using var _ = bob;
        await ann.DisposeAsync();

        var presence = await bob.ExpectAsync("presence");
        Assert.Equal("leave", (string?)presence["event"]);
        Assert.Equal("ann", (string?)presence["name"]);
    }

    [Fact]
    public async Task Nick_replies_nick_and_others_in_shared_rooms_get_rename()
    {
        var (ann, bob) = await TwoInRoomAsync("lobby");
        await using var _ = ann;
        await using var __ = bob;

        await ann.SendJsonAsync(new { type = "nick", name = "anna" });
        var nick = await ann.ExpectAsync("nick");
        Assert.Equal("anna", (string?)nick["name"]);
        Assert.Equal("ann", (string?)nick["old"]);

        var presence = await bob.ExpectAsync("presence");
        Assert.Equal("rename", (string?)presence["event"]);
        Assert.Equal("ann", (string?)presence["name"]);
        Assert.Equal("anna", (string?)presence["to"]);

        await bob.SendJsonAsync(new { type = "who", room = "lobby" });
        Assert.Equal(["anna", "bob"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(n => (string)n!));

        // The old name is free again, the new one taken.
        await using var other = await _server.ConnectJsonAsync("name=ann");
        Assert.Equal("ann", await other.ReadWelcomeNameAsync());
    }

    [Fact]
    public async Task Who_replies_members_sorted()
    {
        var (ann, bob) = await TwoInRoomAsync("lobby");
        await using var _ = ann;
        await using var __ = bob;
        await bob.SendJsonAsync(new { type = "who", room = "lobby" });
        var members = await bob.ExpectAsync("members");
        Assert.Equal("lobby", (string?)members["room"]);
        Assert.Equal(["ann", "bob"], members["members"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task Rooms_lists_rooms_with_member_counts_sorted_by_name()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=zeta&room=alpha");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.ExpectAsync("joined");
        await using var bob = await _server.ConnectJsonAsync("name=bob&room=alpha");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        await bob.SendJsonAsync(new { type = "rooms" });
        var rooms = (await bob.ExpectAsync("rooms"))["rooms"]!.AsArray();
        Assert.Equal(2, rooms.Count);
        Assert.Equal("alpha", (string?)rooms[0]!["room"]);
        Assert.Equal(2, (int)rooms[0]!["members"]!);
        Assert.Equal("zeta", (string?)rooms[1]!["room"]);
        Assert.Equal(1, (int)rooms[1]!["members"]!);
    }

    [Fact]
    public async Task History_returns_the_newest_messages_before_a_seq_oldest_first()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        for (int i = 1; i <= 10; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "lobby", text = $"m{i}" });
            await ann.ExpectAsync("message");
            await ann.ExpectAsync("ack");
        }

        await ann.SendJsonAsync(new { type = "history", room = "lobby", before = 8, limit = 3 });
        var history = await ann.ExpectAsync("history");
        Assert.Equal("lobby", (string?)history["room"]);
        Assert.Equal([5L, 6L, 7L], history["messages"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.Equal("m5", (string?)history["messages"]![0]!["text"]);

        await ann.SendJsonAsync(new { type = "history", room = "lobby" });
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), (await ann.ExpectAsync("history"))["messages"]!.AsArray().Select(m => (long)m!["seq"]!));
    }

    [Fact]
    public async Task Joined_history_holds_the_newest_fifty_without_since()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await SayManyAsync(ann, "lobby", 60);

        await using var bob = await _server.ConnectJsonAsync("name=bob&room=lobby");
        await bob.ExpectAsync("welcome");
        var joined = await bob.ExpectAsync("joined");
        Assert.Equal(Enumerable.Range(11, 50).Select(i => (long)i), joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
    }

    [Fact]
    public async Task Ping_replies_pong_with_the_ref()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "ping", @ref = "p-1" });
        Assert.Equal("p-1", (string?)(await ann.ExpectAsync("pong"))["ref"]);
        await ann.SendJsonAsync(new { type = "ping" });
        Assert.Null((await ann.ExpectAsync("pong"))["ref"]);
    }

    [Fact]
    public async Task Unknown_extra_fields_are_ignored()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendTextAsync("""{"type":"ping","ref":"x","colour":"blue","nested":{"a":[1,2]}}""");
        Assert.Equal("x", (string?)(await ann.ExpectAsync("pong"))["ref"]);
    }

    private async Task<(WsClient Ann, WsClient Bob)> TwoInRoomAsync(string room)
    {
        var ann = await _server.ConnectJsonAsync($"name=ann&room={room}");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        var bob = await _server.ConnectJsonAsync($"name=bob&room={room}");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        await ann.ExpectAsync("presence");
        return (ann, bob);
    }

    internal static async Task SayManyAsync(WsClient client, string room, int count, string prefix = "m")
    {
        for (int i = 1; i <= count; i++)
        {
            await client.SendJsonAsync(new { type = "say", room, text = $"{prefix}{i}" });
            await client.WaitForAsync("ack");
        }
    }
}
