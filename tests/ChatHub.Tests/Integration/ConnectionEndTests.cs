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
        // at once, without a close frame.
        using var stop = new CancellationTokenSource();
        var says = Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                await sender.SendJsonAsync(new { type = "say", room = "storm", text = $"line {n}" });
            }
        });
        var reads = Task.Run(async () =>
        {
            try
            {
                while (await sender.ReceiveAsync() is not null)
                {
                    // the sender reads its own lines, so its outbox never fills
                }
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                // the sender vanishes too, below
            }
        });
        await Task.WhenAll(members.Select(m => Task.Run(() => m.Socket.Abort())));
        await stop.CancelAsync();
        await says;
        sender.Socket.Abort();
        await reads;
        await sender.DisposeAsync();
        foreach (var member in members)
        {
            await member.DisposeAsync();
        }

        // Every connection ended on its own (the close timeout is far away).
        await registry.WhenEmpty().WaitAsync(WsClient.Timeout);
    }
}
