using System.Globalization;
using System.Text.RegularExpressions;
using ChatHub.Tests.Deployment;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// <c>/metrics</c> as Prometheus' own linter sees it (Debian's <c>promtool check metrics</c>), and the operator
/// series counting what really happened on a SQLite-backed server.
/// </summary>
public sealed partial class MetricsExpositionTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartSqliteAsync(_dir.File("metrics.db"));
        _http = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Metrics_pass_promtool_and_count_closes_by_code_rooms_by_state_commits_and_deliveries()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using (var bob = await _server.ConnectJsonAsync("name=bob&room=lobby&room=quiet"))
        {
            await bob.ExpectAsync("welcome");
            await bob.ExpectAsync("joined");
            await bob.ExpectAsync("joined");
            for (int i = 1; i <= 3; i++)
            {
                await ann.SendJsonAsync(new { type = "say", room = "lobby", text = $"hi {i}", @ref = $"a{i}" });
                await ann.WaitForAsync("ack");
                await bob.WaitForAsync("message");
            }

            await bob.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        // bob's connection ends on the server a moment after his close completes; the counter follows.
        string metrics = await ScrapeUntilAsync(m => Value(m, "chathub_connections_closed_total", "code=\"1000\"") >= 1);

        var lint = await CommandLine.RunAsync("sh", ["-c", "promtool check metrics < \"$0\"", await SaveAsync(metrics)], TimeSpan.FromMinutes(1));
        Assert.True(lint.ExitCode == 0 && lint.Output.Length == 0 && lint.Error.Length == 0, lint.Describe("promtool check metrics"));

        // ann is in lobby (active); bob's "quiet" has no members and no history left (idle until it retires).
        Assert.Equal(1, Value(metrics, "chathub_rooms", "state=\"active\""));
        Assert.Equal(3, Value(metrics, "chathub_store_commit_batch_size_sum", ""));
        Assert.InRange(Value(metrics, "chathub_store_commit_batch_size_count", ""), 1, 3);
        Assert.True(Value(metrics, "chathub_store_commit_duration_seconds_sum", "") > 0);
        Assert.Equal(Value(metrics, "chathub_store_commit_batch_size_count", ""), Value(metrics, "chathub_store_commit_duration_seconds_count", ""));
        Assert.Equal(Value(metrics, "chathub_store_commit_duration_seconds_count", ""),
            Value(metrics, "chathub_store_commit_duration_seconds_bucket", "le=\"+Inf\""));
        // Each message reached ann and bob; a write can carry several, so at least one and at most six writes.
        Assert.InRange(Value(metrics, "chathub_delivery_duration_seconds_count", ""), 1, 6);
        Assert.Equal(0, Value(metrics, "chathub_outbox_depth_max", ""));
        Assert.Equal(1, Value(metrics, "chathub_connections", ""));
    }

    [Fact]
    public async Task Closes_are_counted_by_the_code_the_server_sent_and_the_rest_as_aborted()
    {
        await using var server = await TestServer.StartAsync("Limits:MaxFrameBytes=4096", "Limits:MaxTextBytes=1024");
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        await using var big = await server.ConnectJsonAsync();
        await big.ExpectAsync("welcome");
        await big.SendTextAsync("{\"type\":\"ping\",\"ref\":\"" + new string('x', 5000) + "\"}");
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, await big.ReceiveCloseAsync());
        await using var binary = await server.ConnectJsonAsync();
        await binary.ExpectAsync("welcome");
        await binary.SendRawAsync([1, 2, 3], System.Net.WebSockets.WebSocketMessageType.Binary);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InvalidMessageType, await binary.ReceiveCloseAsync());
        await using var broken = await server.ConnectJsonAsync();
        await broken.ExpectAsync("welcome");
        await broken.SendRawAsync([0x7B, 0xC3, 0x28, 0x7D], System.Net.WebSockets.WebSocketMessageType.Text);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InvalidPayloadData, await broken.ReceiveCloseAsync());
        await using var gone = await server.ConnectJsonAsync();
        await gone.ExpectAsync("welcome");
        gone.Socket.Abort(); // the TCP connection ends with no close handshake

        string metrics = await ScrapeUntilAsync(http, m => Value(m, "chathub_connections", "") == 0);
        Assert.Equal(1, Value(metrics, "chathub_connections_closed_total", "code=\"1009\""));
        Assert.Equal(1, Value(metrics, "chathub_connections_closed_total", "code=\"1003\""));
        // .NET's WebSocket sends 1007 itself (not the server's close): counted with the peer that vanished.
        Assert.Equal(2, Value(metrics, "chathub_connections_closed_total", "code=\"aborted\""));
        Assert.Equal(-1, Value(metrics, "chathub_connections_closed_total", "code=\"1000\""));
    }

    [Fact]
    public async Task The_deepest_outbox_shows_a_reader_that_stopped()
    {
        await using var server = await TestServer.StartAsync(
            "Limits:OutboxCapacity=100000", "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000");
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        await using var stalled = await server.ConnectJsonAsync("name=stalled&room=deep");
        await stalled.ExpectAsync("welcome");
        await stalled.ExpectAsync("joined");
        await using var sender = await server.ConnectJsonAsync("name=sender&room=deep");
        await sender.ExpectAsync("welcome");
        await sender.ExpectAsync("joined");
        Assert.Equal(0, Value(await http.GetStringAsync("/metrics"), "chathub_outbox_depth_max", ""));

        // The stalled member reads nothing: once the kernel's socket buffers are full, its outbox grows.
        string text = new('x', 4000);
        double depth = 0;
        for (int sent = 0; sent < 20_000 && depth == 0; sent += 200)
        {
            for (int i = 0; i < 200; i++)
            {
                await sender.SendJsonAsync(new { type = "say", room = "deep", text });
            }

            for (int i = 0; i < 200; i++)
            {
                await sender.WaitForAsync("ack");
            }

            depth = Value(await ScrapeUntilAsync(http, _ => true), "chathub_outbox_depth_max", "");
        }

        Assert.InRange(depth, 1, 20_000);
    }

    [Fact]
    public async Task Two_servers_in_one_process_each_export_only_their_own_series()
    {
        await using var other = await TestServer.StartSqliteAsync(_dir.File("other.db"));
        await using var ann = await other.ConnectJsonAsync("name=ann&room=elsewhere");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "elsewhere", text = "not yours", @ref = "o1" });
        await ann.WaitForAsync("ack");

        string metrics = await _http.GetStringAsync("/metrics");
        Assert.Single(Sample().Matches(metrics), m => m.Groups["name"].Value == "chathub_messages_in_total");
        Assert.Equal(0, Value(metrics, "chathub_messages_in_total", ""));
        Assert.Equal(0, Value(metrics, "chathub_connections", ""));
        Assert.DoesNotContain("chathub_store_commit_batch_size_count", metrics);
    }

    private async Task<string> SaveAsync(string metrics)
    {
        string path = _dir.File("metrics.txt");
        await File.WriteAllTextAsync(path, metrics);
        return path;
    }

    /// <summary>Scrapes until <paramref name="done"/> holds, within a bound (the exporter caches a scrape briefly).</summary>
    private Task<string> ScrapeUntilAsync(Func<string, bool> done) => ScrapeUntilAsync(_http, done);

    private static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        string metrics;
        do
        {
            metrics = await http.GetStringAsync("/metrics");
            if (done(metrics))
            {
                return metrics;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail("the metrics never showed what was expected:\n" + metrics);
        return metrics;
    }

    /// <summary>The value of the one sample of <paramref name="name"/> whose labels contain <paramref name="label"/>; -1 when absent.</summary>
    private static double Value(string metrics, string name, string label)
    {
        foreach (Match m in Sample().Matches(metrics))
        {
            if (m.Groups["name"].Value == name && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
