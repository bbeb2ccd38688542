using ChatHub.Tests.Deployment;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The backup of docs/operations.md for a running server: SQLite's online backup (<c>sqlite3 FILE ".backup COPY"</c>)
/// while the server keeps writing, and a server started on the copy.
/// </summary>
public sealed class SqliteBackupTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_online_backup_of_a_running_server_restores_every_acked_message_and_the_seq()
    {
        string db = _dir.File("live.db");
        string copy = _dir.File("backup.db");
        await using (var server = await TestServer.StartSqliteAsync(db))
        {
            await using var ann = await server.ConnectJsonAsync("name=ann&room=kept");
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            for (int i = 1; i <= 5; i++)
            {
                await ann.SendJsonAsync(new { type = "say", room = "kept", text = $"kept {i}", @ref = $"k{i}" });
                Assert.Equal(i, (long)(await ann.WaitForAsync("ack"))["seq"]!);
            }

            await CommandLine.RunCheckedAsync("sqlite3", [db, $".backup '{copy}'"], TimeSpan.FromMinutes(1));

            // The server goes on writing after the backup; the copy keeps the state of its moment.
            await ann.SendJsonAsync(new { type = "say", room = "kept", text = "after the backup", @ref = "k6" });
            Assert.Equal(6, (long)(await ann.WaitForAsync("ack"))["seq"]!);
        }

        await using var restored = await TestServer.StartSqliteAsync(copy);
        await using var bob = await restored.ConnectJsonAsync("name=bob&room=kept");
        await bob.ExpectAsync("welcome");
        var history = (await bob.ExpectAsync("joined"))["history"]!.AsArray();
        Assert.Equal(["kept 1", "kept 2", "kept 3", "kept 4", "kept 5"], history.Select(m => (string)m!["text"]!));
        await bob.SendJsonAsync(new { type = "say", room = "kept", text = "on the copy", @ref = "b1" });
        Assert.Equal(6, (long)(await bob.WaitForAsync("ack"))["seq"]!);
    }
}
