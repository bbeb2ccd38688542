using ChatHub.Server.Connections;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Integration;

/// <summary>
/// Every connection ends, whatever its drain was doing: peers that vanish while their room is sending to them
/// (their drains fail on the dead transport while their read loops end) leave no connection behind.
/// </summary>
public sealed class ConnectionEndTests
{
    [Fact]
    public async Task Members_that_vanish_while_their_room_sends_leave_no_connection_behind()
    {
        // A close timeout longer than the test waits: a connection must end by itself, not by the abort timer.
        await using var server = await TestServer.StartAsync(
            "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000", "Connections:CloseTimeout=00:05:00");
        var registry = server.App.Services.GetRequiredService<ConnectionRegistry>();
        var sender = await server.ConnectJsonAsync("name=sender&room=storm");
        await sender.WaitForAsync("joined");
        var members = await Task.WhenAll(Enumerable.Range(0, 150).Select(async i =>
        {
            var member = await server.ConnectJsonAsync($"name=m{i}&room=storm");
            await member.WaitForAsync("joined");
            return member;
        }));

        // The room keeps sending (messages, and the leave lines of those already gone) while every member vanishes
        // at once, without a close frame. The sender waits for each say's ack before the next: flooding says unread
        // would fill its own outbox (1,024 frames) and get it closed as a slow consumer, which is not this test.
        using var stop = new CancellationTokenSource();
        var says = Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                string reference = $"r{n}";
                await sender.SendJsonAsync(new { type = "say", room = "storm", text = $"line {n}", @ref = reference });
                await sender.WaitForAsync("ack", ack => (string?)ack["ref"] == reference);
            }
        });
        await Task.WhenAll(members.Select(m => Task.Run(() => m.Socket.Abort())));
        await stop.CancelAsync();
        await says;
        sender.Socket.Abort();
        await sender.DisposeAsync();
        foreach (var member in members)
        {
            await member.DisposeAsync();
        }

        // Every connection ended on its own (the close timeout is far away).
        await registry.WhenEmpty().WaitAsync(WsClient.Timeout);
    }

    /// <summary>
    /// A connection that has ended is garbage at once: nothing (such as the timer that aborts a close taking longer
    /// than CloseTimeout) keeps it, its WebSocket and Kestrel's connection with its pipes alive afterwards.
    /// </summary>
    [Fact]
    public async Task An_ended_connection_is_not_kept_alive_by_its_close_timer()
    {
        await using var server = await TestServer.StartAsync("Connections:CloseTimeout=00:05:00");
        var registry = server.App.Services.GetRequiredService<ConnectionRegistry>();
        var client = await server.ConnectJsonAsync("name=short");
        await client.ExpectAsync("welcome");
        var connection = Track(registry);

        await client.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await registry.WhenEmpty().WaitAsync(WsClient.Timeout);
        await client.DisposeAsync();

        // No event says "collectable"; the last references (the ended async methods' boxes) go within moments,
        // far inside the five-minute close timeout that held the connection before.
        for (int attempt = 0; connection.IsAlive && attempt < 100; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }

        Assert.False(connection.IsAlive, "the ended connection is still reachable");
    }

    [Fact]
    public async Task Memory_is_reclaimed_once_after_connections_fall_by_the_configured_drop()
    {
        await using var server = await TestServer.StartAsync("Connections:ReclaimAfterDrop=6");
        var reclaimer = server.App.Services.GetRequiredService<MemoryReclaimer>();
        var registry = server.App.Services.GetRequiredService<ConnectionRegistry>();
        var reclaimed = reclaimer.NextReclaim;
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            var client = await server.ConnectJsonAsync($"name=r{i}");
            await client.ExpectAsync("welcome");
            return client;
        }));

        // Falling by 5 of 8 is under the drop: no reclaim.
        foreach (var client in clients.Take(5))
        {
            await client.DisposeAsync();
        }

        // Falling by 7 of 8 passes it (and is below half the peak): one reclaim, a second after the fall ends.
        foreach (var client in clients.Skip(5).Take(2))
        {
            await client.DisposeAsync();
        }

        await reclaimed.WaitAsync(WsClient.Timeout);
        Assert.Equal(1, registry.Count);
        await clients[^1].DisposeAsync();
    }

    private static WeakReference Track(ConnectionRegistry registry) => new(registry.All.Single());
}
