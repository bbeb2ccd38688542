using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections.Sockets;
using Xunit.Abstractions;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// The pooled buffers of <see cref="SocketWebSocket"/> go back to the pool exactly once however a connection ends,
/// above all when a dispose or an abort races a send: a buffer dropped is a leak, a buffer returned twice would be
/// lent to two sockets at once. Counted by a pool of the test's own.
/// </summary>
public sealed class SocketWebSocketPoolTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly KeepAliveClock _clock = new(TimeSpan.FromSeconds(1));

    public void Dispose() => _clock.Dispose();

    [Fact]
    public async Task What_was_gathered_during_a_send_goes_back_when_a_dispose_meets_the_end_of_that_send()
    {
        var pool = new CountingArrayPool();
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        {
            var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock, pool);

            // A large frame the client does not read yet keeps a send in flight; a frame of the next burst is gathered meanwhile.
            server.SendBufferSize = 64 * 1024;
            client.ReceiveBufferSize = 64 * 1024;
            const int Large = 4 * 1024 * 1024;
            var send = socket.SendAsync(new byte[Large].AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask();
            Assert.False(send.IsCompleted);
            socket.CaptureNextWrite(last: false);
            await socket.SendAsync("gathered"u8.ToArray().AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal(2, pool.Outstanding);

            // The dispose comes exactly as the send ends: when its buffer goes back, before the sender looks at the rest.
            pool.Returned = array =>
            {
                if (array.Length > Large)
                {
                    socket.Dispose();
                }
            };
            var reading = Loopback.ReadToEndAsync(client);
            await send.WaitAsync(Timeout);
            server.Dispose();
            await reading.WaitAsync(Timeout);

            Assert.Empty(pool.Misuses);
            Assert.Equal(0, pool.Outstanding);
        }
    }

    [Fact]
    public async Task Dispose_and_abort_racing_sends_return_every_buffer_exactly_once()
    {
        const int Rounds = 300;
        var pool = new CountingArrayPool();
        var random = new Random(20261126);
        int stillSending = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var (server, client) = await Loopback.ConnectAsync();

            // Keep-alive every millisecond without a timeout (unsolicited pongs), ticked by hand below: frames of the
            // WebSocket's own are gathered while a send of the write loop is in flight, as a real pong or ping is.
            var socket = new SocketWebSocket(server, null, TimeSpan.FromMilliseconds(1), System.Threading.Timeout.InfiniteTimeSpan, _clock, pool);
            var receive = Ignore(socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask());
            var reading = Loopback.ReadToEndAsync(client);
            using var started = new SemaphoreSlim(0);
            bool fromThePool = round % 3 == 2;
            if (fromThePool)
            {
                // Disposed at a chosen return to the pool: the moments between a send's end and its sender's next
                // step, which a thread racing from outside rarely hits. Not from inside the WebSocket's own lock (a
                // buffer replaced as the gathered one grows): no real caller disposes from inside a pool.
                int returns = 0, disposeAt = random.Next(1, 40);
                pool.Returned = _ =>
                {
                    if (!Monitor.IsEntered(socket) && Interlocked.Increment(ref returns) == disposeAt)
                    {
                        socket.Dispose();
                    }
                };
            }

            // Bursts of gathered frames, some large enough to pass the 64 KiB bound, until the socket ends.
            int burst = random.Next(1, 40), large = random.Next(3);
            var sending = Task.Run(async () =>
            {
                try
                {
                    for (int i = 0; ; i++)
                    {
                        socket.CaptureNextWrite(last: i % burst == burst - 1);
                        var payload = Encoding.ASCII.GetBytes($"frame {i} " + new string('z', i % 7 == 0 && large > 0 ? 30_000 * large : i % 100));
                        var sent = socket.SendAsync(payload.AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None);
                        if (i == 0)
                        {
                            started.Release();
                        }

                        await sent;
                    }
                }
                catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
                {
                    // The dispose or abort ended it: the point of the round.
                }
            });

            await started.WaitAsync(Timeout);
            var ticking = Task.Run(async () =>
            {
                for (long now = Environment.TickCount64; !sending.IsCompleted; now++)
                {
                    socket.OnKeepAliveTick(now);
                    await Task.Yield();
                }
            });
            if (!fromThePool)
            {
                Thread.SpinWait(random.Next(0, 200_000));
                if (round % 3 == 0)
                {
                    socket.Dispose();
                }
                else
                {
                    socket.Abort();
                }

                stillSending += sending.IsCompleted ? 0 : 1;
            }

            await Task.WhenAll(sending, ticking).WaitAsync(Timeout);
            pool.Returned = null;
            await receive.WaitAsync(Timeout);
            socket.Dispose();
            server.Dispose();
            await reading.WaitAsync(Timeout);
            client.Dispose();
        }

        output.WriteLine($"{Rounds} rounds, {pool.Rented} buffers lent, {stillSending} of the {Rounds * 2 / 3} rounds ended from outside found the sender still sending");
        Assert.Empty(pool.Misuses);
        Assert.Equal(0, pool.Outstanding);
        Assert.True(stillSending > Rounds / 3, $"only {stillSending} rounds raced a send");
    }

    private static async Task Ignore(Task receive)
    {
        try
        {
            await receive;
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The dispose or abort ended it.
        }
    }
}
