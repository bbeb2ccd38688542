using System.Net;
using System.Text.Json;
using ChatHub.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ChatHub.Tests.Integration;

/// <summary>Rooms in memory are bounded, idle ones leave memory but not the store, the room list is paged, mailboxes are bounded.</summary>
public sealed class RoomBoundsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_join_that_would_load_one_room_too_many_gets_server_busy()
    {
        await using var server = await TestServer.StartAsync("Limits:MaxRooms=2");
        await using var ann = await server.ConnectJsonAsync("name=ann&room=a&room=b");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.ExpectAsync("joined");

        await ann.SendJsonAsync(new { type = "join", room = "c", @ref = "j" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("server_busy", (string?)error["code"]);
        Assert.Equal("j", (string?)error["ref"]);

        // The refused join left no membership behind.
        await ann.SendJsonAsync(new { type = "say", room = "c", text = "hi" });
        Assert.Equal("not_in_room", (string?)(await ann.ExpectAsync("error"))["code"]);

        // A room without history leaves memory as soon as its last member leaves, which makes room.
        await ann.SendJsonAsync(new { type = "leave", room = "a" });
        await ann.ExpectAsync("left");
        await ann.SendJsonAsync(new { type = "join", room = "c" });
        Assert.Equal("c", (string?)(await ann.ExpectAsync("joined"))["room"]);
    }

    [Fact]
    public async Task At_the_room_limit_rooms_without_members_leave_memory_without_waiting_their_idle_time()
    {
        await using var server = await TestServer.StartAsync("Limits:MaxRooms=2");
        await using var ann = await server.ConnectJsonAsync("name=ann&room=kept&room=busy");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.ExpectAsync("joined");
        await JsonProtocolTests.SayManyAsync(ann, "kept", 2);
        await ann.SendJsonAsync(new { type = "leave", room = "kept" });
        await ann.WaitForAsync("left");

        // "kept" has history but no member, so it leaves memory (its history stays in the store), and a join that
        // found the limit reached gets in on a retry (what server_busy asks of a client).
        var deadline = DateTime.UtcNow + WsClient.Timeout;
        while (true)
        {
            await ann.SendJsonAsync(new { type = "join", room = "new" });
            var reply = await ann.NextAsync();
            if ((string?)reply["type"] == "joined")
            {
                break;
            }

            Assert.Equal("server_busy", (string?)reply["code"]);
            Assert.True(DateTime.UtcNow < deadline, "the room limit never made room");
            await Task.Delay(50);
        }

        await ann.SendJsonAsync(new { type = "leave", room = "new" });
        await ann.WaitForAsync("left");
        await ann.SendJsonAsync(new { type = "join", room = "kept" });
        var joined = await ann.ExpectAsync("joined");
        Assert.Equal([1L, 2], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
    }

    [Fact]
    public async Task An_idle_room_is_unloaded_but_stays_listed_and_its_seq_continues()
    {
        await using var server = await TestServer.StartSqliteAsync(_dir.File("chat.db"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await using var ann = await server.ConnectJsonAsync("name=ann&room=kept");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await JsonProtocolTests.SayManyAsync(ann, "kept", 3);
        await ann.SendJsonAsync(new { type = "leave", room = "kept" });
        await ann.WaitForAsync("left");

        // The room leaves memory inside the server once its leave is settled; the rooms gauge is where it shows.
        await WaitUntilAsync(async () => await RoomsInMemoryAsync(http) == 0);

        using (var rooms = JsonDocument.Parse(await http.GetStringAsync("/api/rooms")))
        {
            var only = Assert.Single(rooms.RootElement.EnumerateArray());
            Assert.Equal("kept", only.GetProperty("room").GetString());
            Assert.Equal(0, only.GetProperty("members").GetInt32());
        }

        await ann.SendJsonAsync(new { type = "join", room = "kept" });
        var joined = await ann.ExpectAsync("joined");
        Assert.Equal([1L, 2, 3], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.Equal(1, await RoomsInMemoryAsync(http));
        await ann.SendJsonAsync(new { type = "say", room = "kept", text = "four" });
        Assert.Equal(4, (long)(await ann.WaitForAsync("ack"))["seq"]!);
    }

    [Fact]
    public async Task Rooms_and_api_rooms_are_paged_by_name()
    {
        await using var server = await TestServer.StartAsync("Limits:RoomListPageSize=10", "Limits:MessagesPerSecond=1000", "Limits:MessageBurst=1000");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        // 25 rooms: 20 with history and nobody in them, 5 with a member and no history.
        for (int i = 0; i < 25; i++)
        {
            string room = $"r{i:00}";
            await ann.SendJsonAsync(new { type = "join", room });
            await ann.ExpectAsync("joined");
            if (i < 20)
            {
                await ann.SendJsonAsync(new { type = "say", room, text = "x" });
                await ann.WaitForAsync("ack");
                await ann.SendJsonAsync(new { type = "leave", room });
                await ann.WaitForAsync("left");
            }
        }

        var pages = new List<string[]>();
        string? after = null;
        do
        {
            await ann.SendJsonAsync(after is null ? new { type = "rooms" } : (object)new { type = "rooms", after });
            var page = (await ann.ExpectAsync("rooms"))["rooms"]!.AsArray().Select(r => (string)r!["room"]!).ToArray();
            pages.Add(page);
            after = page.Length == 10 ? page[^1] : null;
        }
        while (after is not null);

        Assert.Equal([10, 10, 5], pages.Select(p => p.Length));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"r{i:00}"), pages.SelectMany(p => p));

        using var httpPage = JsonDocument.Parse(await http.GetStringAsync("/api/rooms?after=r17&limit=4"));
        Assert.Equal(["r18", "r19", "r20", "r21"], httpPage.RootElement.EnumerateArray().Select(r => r.GetProperty("room").GetString()));
        Assert.Equal(1, httpPage.RootElement[2].GetProperty("members").GetInt32());
        Assert.Equal(0, httpPage.RootElement[0].GetProperty("members").GetInt32());

        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/rooms?limit=11")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/rooms?after=no%20such")).StatusCode);
        await ann.SendJsonAsync(new { type = "rooms", limit = 0, @ref = "z" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("bad_request", (string?)error["code"]);
        Assert.Equal("z", (string?)error["ref"]);
    }

    [Fact]
    public async Task A_full_room_mailbox_answers_server_busy_and_the_room_carries_on()
    {
        string path = _dir.File("chat.db");
        await using var server = await TestServer.StartSqliteAsync(path, "Limits:RoomMailboxCapacity=3");
        // The room cannot load its history while the table is away, so its requests wait in its mailbox.
        Execute(path, "ALTER TABLE messages RENAME TO hidden;");
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "join", room = "stuck" });
        // who is answered by the membership, not the room; history waits in the room's mailbox.
        await ann.SendJsonAsync(new { type = "history", room = "stuck" });
        await ann.SendJsonAsync(new { type = "history", room = "stuck" });
        await ann.SendJsonAsync(new { type = "history", room = "stuck", @ref = "w4" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("server_busy", (string?)error["code"]);
        Assert.Equal("w4", (string?)error["ref"]);

        await using var bob = await server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "join", room = "stuck" });
        Assert.Equal("server_busy", (string?)(await bob.ExpectAsync("error"))["code"]);
        await bob.SendJsonAsync(new { type = "say", room = "stuck", text = "hi" });
        Assert.Equal("not_in_room", (string?)(await bob.ExpectAsync("error"))["code"]);

        Execute(path, "ALTER TABLE hidden RENAME TO messages;");
        Assert.Equal(["ann"], (await ann.ExpectAsync("joined"))["members"]!.AsArray().Select(m => (string)m!));
        await ann.ExpectAsync("history");
        await ann.ExpectAsync("history");
        await ann.SendJsonAsync(new { type = "say", room = "stuck", text = "free again" });
        Assert.Equal(1, (long)(await ann.WaitForAsync("ack"))["seq"]!);
    }

    private static async Task<long> RoomsInMemoryAsync(HttpClient http)
    {
        using var stats = JsonDocument.Parse(await http.GetStringAsync("/api/stats"));
        return stats.RootElement.GetProperty("rooms").GetInt64();
    }

    /// <summary>Polls a condition the server reaches on its own timer, bounded by the clients' timeout.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + WsClient.Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition was not reached in time");
            await Task.Delay(50);
        }
    }

    private static void Execute(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
