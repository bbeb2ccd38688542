using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>What one connection may make the server spend: outbox bytes, and a budget every request draws on.</summary>
[Collection(RunsAlone.Name)]
public sealed class ConnectionBudgetTests
{
    [Fact]
    public async Task A_client_that_asks_for_large_replies_and_does_not_read_is_closed_at_the_byte_limit()
    {
        // 200 joins with since=0 on a room of 200 one-kilobyte messages ask for ~40 MB of replies: far more than the
        // kernel's buffers take, yet 200 frames are far below the frame limit. Only the byte bound can close it.
        await using var server = await TestServer.StartAsync(
            "Limits:OutboxBytes=262144", "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000");
        await using var writer = await server.ConnectJsonAsync("name=writer&room=big");
        await writer.ExpectAsync("welcome");
        await writer.ExpectAsync("joined");
        string text = new('x', 1000);
        for (int i = 0; i < 200; i++)
        {
            await writer.SendJsonAsync(new { type = "say", room = "big", text, @ref = $"r{i}" });
        }

        for (int acks = 0; acks < 200;)
        {
            acks += (string?)(await writer.NextAsync())["type"] == "ack" ? 1 : 0;
        }

        using var hoarder = await RawWebSocket.ConnectAsync(server.BaseAddress, "format=json&name=hoarder");
        var joins = new MemoryStream();
        for (int i = 0; i < 200; i++)
        {
            joins.Write(RawWebSocket.TextFrame("""{"type":"join","room":"big","since":0}"""));
        }

        await hoarder.WriteAsync(joins.ToArray());
        // Read only once the server has had every join: the outbox fills while nobody reads.
        await writer.WaitForAsync("presence", f => (string?)f["name"] == "hoarder");
        await WaitForMetricAsync(server, "chathub_slow_consumer_closes_total{otel_scope_name=\"ChatHub\"} 1");
        Assert.Equal(1013, await hoarder.ReadUntilCloseAsync());

        // The writer carries on.
        await writer.SendJsonAsync(new { type = "ping", @ref = "p" });
        await writer.WaitForAsync("pong");
    }

    [Fact]
    public async Task Three_hundred_nicks_in_one_write_get_rate_limited_after_the_burst()
    {
        await using var server = await TestServer.StartAsync("Limits:AbuseDropThreshold=1000");
        await using var mate = await server.ConnectJsonAsync("name=mate&room=lobby");
        await mate.ExpectAsync("welcome");
        await mate.ExpectAsync("joined");
        using var storm = await RawWebSocket.ConnectAsync(server.BaseAddress, "format=json&name=storm&room=lobby");
        Assert.Equal(["welcome", "joined"], await ReadRepliesAsync(storm, 2));
        await mate.WaitForAsync("presence", f => (string?)f["name"] == "storm");

        var frames = new MemoryStream();
        for (int i = 0; i < 300; i++)
        {
            frames.Write(RawWebSocket.TextFrame($$"""{"type":"nick","name":"storm{{i % 2}}","ref":"n{{i}}"}"""));
        }

        await storm.WriteAsync(frames.ToArray());
        var replies = await ReadRepliesAsync(storm, 300);
        int nicks = replies.Count(r => r == "nick"), limited = replies.Count(r => r == "error:rate_limited");

        // A nick costs half a message: a burst of 40 messages lets about 80 through (plus what refills meanwhile).
        Assert.InRange(nicks, 80, 100);
        Assert.Equal(300 - nicks, limited);
        Assert.Equal(nicks, await CountPresenceUntilHistoryAsync(mate));
    }

    [Fact]
    public async Task A_presence_storm_does_not_push_an_honest_reader_into_1013()
    {
        // 300 leave/join/nick requests at once would put 300 presence frames into every room-mate's outbox; the
        // budget lets about 80 through (a burst of 40 messages at half a message each), then 40 a second: a rate
        // any reader keeps up with, so how many frames a room-mate gets no longer depends on what a stormer sends.
        await using var server = await TestServer.StartAsync("Limits:AbuseDropThreshold=100000");
        await using var reader = await server.ConnectJsonAsync("name=reader&room=lobby");
        await reader.ExpectAsync("welcome");
        await reader.ExpectAsync("joined");
        using var storm = await RawWebSocket.ConnectAsync(server.BaseAddress, "format=json&name=storm&room=lobby");
        Assert.Equal(["welcome", "joined"], await ReadRepliesAsync(storm, 2));
        await reader.WaitForAsync("presence", f => (string?)f["name"] == "storm");

        var frames = new MemoryStream();
        for (int i = 0; i < 100; i++)
        {
            frames.Write(RawWebSocket.TextFrame("""{"type":"leave","room":"lobby"}"""));
            frames.Write(RawWebSocket.TextFrame("""{"type":"join","room":"lobby"}"""));
            frames.Write(RawWebSocket.TextFrame($$"""{"type":"nick","name":"storm{{i}}"}"""));
        }

        await storm.WriteAsync(frames.ToArray());
        var replies = await ReadRepliesAsync(storm, 300);
        Assert.InRange(replies.Count(r => r == "error:rate_limited"), 190, 225);

        int presence = await CountPresenceUntilHistoryAsync(reader);
        Assert.InRange(presence, 60, 110);
        Assert.Equal(WebSocketState.Open, reader.Socket.State);
    }

    /// <summary>The kinds of the next <paramref name="count"/> replies (errors as <c>error:code</c>), skipping broadcasts.</summary>
    private static async Task<List<string>> ReadRepliesAsync(RawWebSocket socket, int count)
    {
        var kinds = new List<string>();
        while (kinds.Count < count)
        {
            var frame = await socket.ReadFrameAsync();
            Assert.True(frame is { Opcode: RawWebSocket.Text }, $"the server closed before answering every request: {frame?.Opcode} {(frame is { } f ? Encoding.UTF8.GetString(f.Payload) : "")} after {string.Join(",", kinds)}");
            var json = JsonNode.Parse(frame!.Value.Payload)!;
            string type = (string)json["type"]!;
            if (type is not ("presence" or "message"))
            {
                kinds.Add(type == "error" ? $"error:{json["code"]}" : type);
            }
        }

        return kinds;
    }

    /// <summary>
    /// Presence frames until the reply to a <c>history</c> of the room: the room answers it in mailbox order, after
    /// every presence it was handed before (<c>who</c> is answered by the membership and may overtake them).
    /// </summary>
    private static async Task<int> CountPresenceUntilHistoryAsync(WsClient client)
    {
        await client.SendJsonAsync(new { type = "history", room = "lobby", limit = 1 });
        int presence = 0;
        while (true)
        {
            var frame = await client.NextAsync();
            switch ((string?)frame["type"])
            {
                case "presence": presence++; break;
                case "history": return presence;
            }
        }
    }

    private static async Task WaitForMetricAsync(TestServer server, string line)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        while (!(await http.GetStringAsync("/metrics", cts.Token)).Contains(line, StringComparison.Ordinal))
        {
            await Task.Delay(50, cts.Token); // polling an HTTP endpoint: there is no event to await
        }
    }
}
