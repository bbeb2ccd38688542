using System.Net.Sockets;
using ChatHub.Server.Connections.Sockets;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// <see cref="SocketOperation"/> over real loopback sockets: bytes move as with <see cref="Socket"/>'s own calls, and a
/// peer's reset comes back as a <see cref="SocketError"/> result, never as an exception.
/// </summary>
public sealed class SocketOperationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sends_and_receives_bytes_and_an_empty_receive_waits_for_data()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        {
            var receiving = new SocketOperation();
            var waiting = receiving.ReceiveAsync(server, Memory<byte>.Empty).AsTask();
            Assert.False(waiting.IsCompleted);

            var sending = new SocketOperation();
            var sent = await sending.SendAsync(client, "hello"u8.ToArray()).AsTask().WaitAsync(Timeout);
            Assert.Equal(new SocketResult(5, SocketError.Success), sent);

            var waited = await waiting.WaitAsync(Timeout);
            Assert.Equal(new SocketResult(0, SocketError.Success), waited);

            var buffer = new byte[16];
            int received = 0;
            while (received < 5)
            {
                var result = await receiving.ReceiveAsync(server, buffer.AsMemory(received)).AsTask().WaitAsync(Timeout);
                Assert.True(result.Succeeded, result.Error.ToString());
                Assert.NotEqual(0, result.BytesTransferred);
                received += result.BytesTransferred;
            }

            Assert.Equal("hello"u8.ToArray(), buffer[..5]);
        }
    }

    [Fact]
    public async Task Sends_into_a_reset_peer_fail_as_a_result_not_an_exception()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        {
            // A dropped client: closed with nothing to linger, so its end is a reset.
            client.LingerState = new LingerOption(true, 0);
            client.Close();

            var sending = new SocketOperation();
            var payload = new byte[1024];
            SocketResult result = default;
            // The first sends may still be taken by the kernel before the reset is seen; a later one fails.
            for (int i = 0; i < 1000 && (result = await sending.SendAsync(server, payload).AsTask().WaitAsync(Timeout)).Succeeded; i++)
            {
                await Task.Yield();
            }

            Assert.False(result.Succeeded);
            Assert.Contains(result.Error, new[] { SocketError.ConnectionReset, SocketError.Shutdown, SocketError.ConnectionAborted });
            Assert.Equal(0, result.BytesTransferred);

            var receiving = new SocketOperation();
            var received = await receiving.ReceiveAsync(server, new byte[16]).AsTask().WaitAsync(Timeout);
            Assert.True(received.Error is SocketError.ConnectionReset || received is { Succeeded: true, BytesTransferred: 0 }, received.ToString());
        }
    }
}
