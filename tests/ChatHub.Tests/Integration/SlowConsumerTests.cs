using System.Net.Http;
using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>A member that stops reading is closed with 1013; the room does not wait for it.</summary>
[Collection(OwnMetersCollection.Name)]
public sealed class SlowConsumerTests
{
    [Fact]
    public async Task A_reader_that_stops_is_closed_with_1013_and_the_room_keeps_going()
    {
        // A small outbox (the fast members keep up because the sender keeps at most 32 messages in flight)
        // and a long close timeout: the test resumes reading only after the room is done,
        // and the close frame must still be waiting for it then.
        await using var server = await TestServer.StartAsync(
            "Limits:OutboxCapacity=128", "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000",
            "Connections:CloseTimeout=00:01:00");
        await using var slow = await server.ConnectJsonAsync("name=slow&room=busy");
        await slow.ExpectAsync("welcome");
        await slow.ExpectAsync("joined");
        await using var fast = await server.ConnectJsonAsync("name=fast&room=busy");
        await fast.ExpectAsync("welcome");
        await fast.ExpectAsync("joined");
        await using var sender = await server.ConnectJsonAsync("name=sender&room=busy");
        await sender.ExpectAsync("welcome");
        await sender.ExpectAsync("joined");

        // Far more than the kernel's socket buffers on both sides can absorb, so the slow outbox must fill.
        const int count = 3000;
        string text = new('x', 4000);
        var fastReads = Task.Run(async () =>
        {
            long last = 0;
            while (last < count)
            {
                var frame = await fast.WaitForAsync("message");
                long seq = (long)frame["seq"]!;
                Assert.Equal(last + 1, seq);
                last = seq;
            }
        });
        using var window = new SemaphoreSlim(32);
        var senderReads = Task.Run(async () =>
        {
            for (int acks = 0; acks < count;)
            {
                if ((string?)(await sender.NextAsync())["type"] == "ack")
                {
                    acks++;
                    window.Release();
                }
            }
        });

        for (int i = 0; i < count; i++)
        {
            Assert.True(await window.WaitAsync(WsClient.Timeout), "no ack came back");
            await sender.SendJsonAsync(new { type = "say", room = "busy", text });
        }

        await fastReads; // the fast member got every message, in order, while the slow one read nothing
        await senderReads;

        Assert.Equal((WebSocketCloseStatus)1013, await slow.ReceiveCloseAsync());
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("chathub_slow_consumer_closes_total{otel_scope_name=\"ChatHub\"} 1", metrics);
    }
}
