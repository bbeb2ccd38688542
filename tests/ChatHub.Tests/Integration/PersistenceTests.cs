using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The embedded SQLite store: a restart keeps history, seq continues, and ref dedup survives.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_restart_keeps_history_and_seq_continues()
    {
        string db = _dir.File("chat.db");
        await using (var server = await TestServer.StartSqliteAsync(db))
        {
            await using var ann = await server.ConnectJsonAsync("name=ann&room=keep");
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await JsonProtocolTests.SayManyAsync(ann, "keep", 5, "before-");
            await ann.SendJsonAsync(new { type = "say", room = "keep", text = "acked", @ref = "k1" });
            Assert.Equal(6, (long)(await ann.WaitForAsync("ack"))["seq"]!);
        }

        await using (var server = await TestServer.StartSqliteAsync(db))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            Assert.Contains("\"room\":\"keep\"", await http.GetStringAsync("/api/rooms"));

            await using var bob = await server.ConnectJsonAsync("name=bob&room=keep");
            await bob.ExpectAsync("welcome");
            var joined = await bob.ExpectAsync("joined");
            var history = joined["history"]!.AsArray();
            Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), history.Select(m => (long)m!["seq"]!));
            Assert.Equal("before-1", (string?)history[0]!["text"]);
            Assert.Equal("ann", (string?)history[0]!["from"]);
            Assert.Equal("acked", (string?)history[5]!["text"]);

            await bob.SendJsonAsync(new { type = "say", room = "keep", text = "after" });
            Assert.Equal(7, (long)(await bob.ExpectAsync("message"))["seq"]!);

            // The ref said before the restart is still known: a resend is not stored twice.
            await using var ann = await server.ConnectJsonAsync("name=ann&room=keep");
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await ann.SendJsonAsync(new { type = "say", room = "keep", text = "acked", @ref = "k1" });
            Assert.Equal(6, (long)(await ann.WaitForAsync("ack"))["seq"]!);
        }
    }

    [Fact]
    public async Task Trimmed_history_keeps_the_seq_counter()
    {
        string db = _dir.File("trim.db");
        await using (var server = await TestServer.StartSqliteAsync(db, "Storage:HistoryWindow=3"))
        {
            await using var ann = await server.ConnectJsonAsync("name=ann&room=short");
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await JsonProtocolTests.SayManyAsync(ann, "short", 8);
        }

        await using (var server = await TestServer.StartSqliteAsync(db, "Storage:HistoryWindow=3"))
        {
            await using var ann = await server.ConnectJsonAsync("name=ann");
            await ann.ExpectAsync("welcome");
            await ann.SendJsonAsync(new { type = "join", room = "short", since = 2 });
            var joined = await ann.ExpectAsync("joined");
            Assert.True((bool)joined["truncated"]!);
            Assert.Equal([6L, 7L, 8L], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
            await ann.SendJsonAsync(new { type = "say", room = "short", text = "next" });
            Assert.Equal(9, (long)(await ann.ExpectAsync("message"))["seq"]!);
        }
    }
}
