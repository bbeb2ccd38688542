using ChatHub.Server.Connections;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Integration;

/// <summary>
/// A member whose socket the server cannot write to any more (it stopped reading) and that then ends its side: the
/// send that waits on it must end too. The test pushes megabytes through one room to fill the kernel's buffers, so it
/// runs on its own, after the rest (the collection of tests that must not share the process's CPU or meters):
/// beside the cluster tests its load made their Redis-backed direct messages miss the clients' timeout.
/// </summary>
[Collection(OwnMetersCollection.Name)]
public sealed class StalledPeerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_member_that_stops_reading_and_then_ends_its_side_leaves_no_connection_behind(bool onTransport)
    {
        // The member stops reading, so the server's send to it blocks, its outbox fills and it is closed with 1013;
        // then it ends its side (a FIN). The send that blocked must end with it: the WebSocket is aborted by the
        // peer's end, and the close timer (longer than the test waits) never aborts it again.
        await using var server = await TestServer.StartAsync(
            "Limits:OutboxCapacity=64", "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000",
            "Connections:CloseTimeout=00:05:00", $"Connections:AcceptOnTransport={onTransport}");
        var registry = server.App.Services.GetRequiredService<ConnectionRegistry>();
        using var stuck = new System.Net.Sockets.TcpClient { ReceiveBufferSize = 4096, NoDelay = true };
        await stuck.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await stuck.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET /ws?format=json&name=stuck&room=flood HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nConnection: Upgrade\r\n" +
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 101 ", await RawUpgrade.ReadHeadAsync(stuck));

        await using var sender = await server.ConnectJsonAsync("name=sender&room=flood");
        await sender.WaitForAsync("joined");
        string text = new('x', 4000);
        // At most 16 lines in flight (each acked before the next 16), so the sender's own outbox never fills. The
        // member's outbox fills once the kernel's buffers do; then it is closing (1013). Read from the registry, not
        // from /metrics, which other servers in this process may report into.
        var deadline = DateTime.UtcNow + WsClient.Timeout;
        ChatConnection? member;
        while ((member = registry.All.SingleOrDefault(c => c.Name == "stuck")) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the member's connection never took its name");
            await Task.Delay(10);
        }

        for (int sent = 0; !member.IsClosing; sent += 16)
        {
            Assert.True(sent < 20_000, "the member that stopped reading was never closed as a slow consumer");
            for (int i = 0; i < 16; i++)
            {
                await sender.SendJsonAsync(new { type = "say", room = "flood", text });
            }

            for (int i = 0; i < 16; i++)
            {
                await sender.WaitForAsync("ack");
            }
        }

        stuck.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        deadline = DateTime.UtcNow + WsClient.Timeout;
        while (registry.All.Count() > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the connection of the member that ended its side is still there");
            await Task.Delay(50);
        }
    }
}
