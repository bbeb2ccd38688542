using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Requests that follow each other closely must be handled as they were sent, whatever the room's timing.</summary>
public sealed class RoomRaceTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(
            "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000", "Limits:OutboxCapacity=16384");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_say_followed_by_a_nick_is_from_the_name_it_was_said_under()
    {
        const int rounds = 40;
        await using var ann = await _server.ConnectJsonAsync("name=n0&room=rename-race");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");

        // Each say is followed at once by a nick, before the room has handled the say. The same ref every
        // time: each say is from a different name, so none of them may be taken for a resend of another.
        for (int i = 0; i < rounds; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "rename-race", text = $"t{i}", @ref = "same" });
            await ann.SendJsonAsync(new { type = "nick", name = $"n{i + 1}" });
        }

        for (int i = 0; i < rounds; i++)
        {
            Assert.Equal("same", (string?)(await ann.WaitForAsync("ack"))["ref"]);
        }

        await ann.SendJsonAsync(new { type = "history", room = "rename-race", limit = 100 });
        var history = await ann.WaitForAsync("history");
        var messages = history["messages"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, rounds).Select(i => $"n{i}:t{i}"),
            messages.Select(m => $"{(string)m!["from"]!}:{(string)m["text"]!}"));
    }

    [Fact]
    public async Task A_leave_and_join_followed_by_a_nick_leave_no_ghost_name_behind()
    {
        // The connection's name changes on its read loop at once, ahead of the leave and join it posted before the
        // nick: the room must leave and rename the member under the name the membership holds, not the newest one.
        const int rounds = 30;
        await using var watcher = await _server.ConnectJsonAsync("name=watcher&room=ghost-names");
        await watcher.ExpectAsync("welcome");
        await watcher.ExpectAsync("joined");
        await using var mover = await _server.ConnectJsonAsync("name=m0&room=ghost-names");
        await mover.ExpectAsync("welcome");
        await mover.ExpectAsync("joined");

        for (int i = 0; i < rounds; i++)
        {
            await mover.SendJsonAsync(new { type = "leave", room = "ghost-names" });
            await mover.SendJsonAsync(new { type = "join", room = "ghost-names" });
            await mover.SendJsonAsync(new { type = "nick", name = $"m{i + 1}" });
        }

        for (int i = 0; i < rounds; i++)
        {
            await mover.WaitForAsync("nick");
        }

        // history is answered by the room after everything the mover posted before it; who then reads the membership.
        await watcher.SendJsonAsync(new { type = "history", room = "ghost-names", limit = 1 });
        await watcher.WaitForAsync("history");
        await watcher.SendJsonAsync(new { type = "who", room = "ghost-names" });
        var members = (await watcher.WaitForAsync("members"))["members"]!.AsArray().Select(n => (string?)n).ToArray();
        Assert.Equal(new[] { $"m{rounds}", "watcher" }, members);
    }

    [Fact]
    public async Task Joining_and_leaving_an_empty_room_fast_leaves_no_ghost_member()
    {
        // An empty room without history retires after every leave, while the next join is already on its way:
        // each join must reach the room before the leave that follows it, whichever incarnation gets them.
        const int clients = 6, rounds = 300;
        var all = new List<WsClient>();
        for (int c = 0; c < clients; c++)
        {
            var client = await _server.ConnectJsonAsync($"name=g{c}");
            await client.ExpectAsync("welcome");
            all.Add(client);
        }

        await Task.WhenAll(all.Select(client => Task.Run(async () =>
        {
            var sends = Task.Run(async () =>
            {
                for (int i = 0; i < rounds; i++)
                {
                    await client.SendJsonAsync(new { type = "join", room = "ghost" });
                    await client.SendJsonAsync(new { type = "leave", room = "ghost" });
                }
            });

            int left = 0;
            while (left < rounds)
            {
                var frame = await client.NextAsync();
                string type = (string)frame["type"]!;
                Assert.True(type is "joined" or "left" or "presence", $"unexpected {frame.ToJsonString()}");
                if (type == "left")
                {
                    left++;
                }
            }

            await sends;
        })));

        await using var observer = await _server.ConnectJsonAsync("name=observer");
        await observer.ExpectAsync("welcome");
        await observer.SendJsonAsync(new { type = "who", room = "ghost" });
        Assert.Empty((await observer.ExpectAsync("members"))["members"]!.AsArray());
        foreach (var client in all)
        {
            await client.DisposeAsync();
        }
    }
}
