using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// <see cref="ChatConnection"/> itself over <see cref="SocketWebSocket"/> (the drop-in it is for), with a real
/// server's connection services: each way a connection ends works, and the common ones (either side's close
/// handshake, the peer's clean TCP close) throw no exception anywhere in the process. First-chance exceptions are
/// counted process-wide, so this class runs alone.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class SocketWebSocketChatConnectionTests(ITestOutputHelper output)
{
    private const int Connections = 50;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public enum Ending
    {
        ClientCloses,
        ServerCloses,
        ClientEndsTcp,
        ClientResets,
    }

    [Theory]
    [InlineData(Ending.ClientCloses, 0)]
    [InlineData(Ending.ServerCloses, 0)]
    [InlineData(Ending.ClientEndsTcp, 0)]
    // At most one: a reset found by the idle wait's own receive is Socket's exception, then the ending is a clean one's;
    // found by the read after it (as the wait usually wakes), none at all.
    [InlineData(Ending.ClientResets, 1)]
    public async Task A_connection_ends_with_the_exceptions_its_ending_needs(Ending ending, int expectedExceptions)
    {
        await using var server = await TestServer.StartAsync();
        var services = server.App.Services.GetRequiredService<ConnectionServices>();
        var exceptions = new ConcurrentQueue<string>();
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e) =>
            exceptions.Enqueue($"{e.Exception.GetType().Name}: {e.Exception.Message}");

        // Warm up (first use of sockets, pools, JIT) before counting.
        await RunOneAsync(services, Ending.ClientCloses, 0);
        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                await RunOneAsync(services, ending, i + 1);
            }
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        double perConnection = exceptions.Count / (double)Connections;
        output.WriteLine($"{ending}: {perConnection:0.##} first-chance exceptions per connection");
        foreach (var group in exceptions.GroupBy(e => e).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Count()} × {group.Key}");
        }

        bool withinBound = ending == Ending.ClientResets
            ? exceptions.Count <= expectedExceptions * Connections
            : exceptions.Count == expectedExceptions * Connections;
        Assert.True(withinBound, string.Join("\n", exceptions.Distinct()));
    }

    private static async Task RunOneAsync(ConnectionServices services, Ending ending, long id)
    {
        var (serverSocket, client) = await Loopback.ConnectAsync();
        using (serverSocket)
        using (client)
        {
            var socket = new SocketWebSocket(serverSocket, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), services.KeepAlive);
            var connection = new ChatConnection(id, socket, socket, socket.Abort, WireFormat.Json, services);
            var run = connection.RunAsync(static (c, frame) =>
            {
                c.TrySendFrame(frame.ToArray());
                return default;
            }, static _ => { });

            await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Text, "echo me"u8), SocketFlags.None);
            var echo = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
            Assert.Equal("echo me", Encoding.UTF8.GetString(echo!.Value.Payload));

            switch (ending)
            {
                case Ending.ClientCloses:
                    await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8]), SocketFlags.None);
                    await ExpectCloseAsync(client, 1000);
                    break;
                case Ending.ServerCloses:
                    connection.BeginClose(CloseCodes.ShuttingDown, "bye");
                    await ExpectCloseAsync(client, 1001);
                    await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE9]), SocketFlags.None);
                    break;
                case Ending.ClientEndsTcp:
                    client.Shutdown(SocketShutdown.Both);
                    break;
                case Ending.ClientResets:
                    client.LingerState = new LingerOption(true, 0);
                    client.Close();
                    break;
            }

            await run.WaitAsync(Timeout);
            Assert.True(socket.State is WebSocketState.Closed or WebSocketState.Aborted, $"{socket.State}");
            Assert.Equal(ending is Ending.ClientCloses or Ending.ServerCloses ? WebSocketState.Closed : WebSocketState.Aborted, socket.State);
            socket.Dispose();
            Assert.Equal(0, services.KeepAlive.Count);
        }
    }

    private static async Task ExpectCloseAsync(Socket client, int code)
    {
        var close = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
        Assert.Equal(RawWebSocket.Close, close!.Value.Opcode);
        Assert.Equal(code, BinaryPrimitives.ReadUInt16BigEndian(close.Value.Payload));
    }
}
