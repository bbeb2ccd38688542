using System.Net;
using ChatHub.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ChatHub.Tests.Integration;

/// <summary>A store that cannot take messages: the sender hears it, readiness turns red, seqs stay without a gap.</summary>
[Collection(OwnMetersCollection.Name)]
public sealed class StoreFailureTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_say_the_store_refuses_gets_unavailable_and_its_resend_takes_the_same_seq()
    {
        string path = _dir.File("chat.db");
        await using var server = await TestServer.StartSqliteAsync(path);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await using var ann = await server.ConnectJsonAsync("name=ann&room=r");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "r", text = "one", @ref = "a" });
        Assert.Equal(1, (long)(await ann.WaitForAsync("ack"))["seq"]!);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        // Every insert now breaks a constraint, as a full disk or a read-only file would refuse it: for good.
        Execute(path, "CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'refused'); END;");
        await ann.SendJsonAsync(new { type = "say", room = "r", text = "two", @ref = "b" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("unavailable", (string?)error["code"]);
        Assert.Equal("b", (string?)error["ref"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("chathub_store_appends_failed_total{otel_scope_name=\"ChatHub\"} 1", metrics);
        Assert.Contains("chathub_store_commit_failures_total{otel_scope_name=\"ChatHub\"} 1", metrics);

        Execute(path, "DROP TRIGGER refuse;");
        await ann.SendJsonAsync(new { type = "say", room = "r", text = "two", @ref = "b" });
        var message = await ann.ExpectAsync("message");
        Assert.Equal(2, (long)message["seq"]!);
        Assert.Equal("two", (string?)message["text"]);
        var ack = await ann.ExpectAsync("ack");
        Assert.Equal("b", (string?)ack["ref"]);
        Assert.Equal(2, (long)ack["seq"]!);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
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
