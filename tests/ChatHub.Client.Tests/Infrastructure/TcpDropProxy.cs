using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// A TCP relay between the browser and the server, so a test can really break
/// the network under a WebSocket: reset every connection, refuse new ones while
/// "offline", or silently eat what the server sends (a lost ack). The browser
/// loads the page through it, so the page's same-host WebSocket goes through it too.
/// </summary>
public sealed class TcpDropProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<RelayedConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private volatile bool _refusing;
    private volatile bool _swallowingDownstream;
    private volatile TaskCompletionSource _downstreamFlowing = CompletedGate();

    public TcpDropProxy(Uri upstream)
    {
        Upstream = upstream;
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where new connections go; change it after a server restart.</summary>
    public Uri Upstream { get; set; }

    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>While true, new connections are reset at once (the server looks unreachable).</summary>
    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    /// <summary>While true, bytes from the server are read and thrown away, never reaching the browser.</summary>
    public bool SwallowingDownstream
    {
        get => _swallowingDownstream;
        set => _swallowingDownstream = value;
    }

    /// <summary>
    /// Stops reading what the server sends (nothing is lost, it waits in the
    /// socket buffers), as a browser that cannot keep up would: the server's
    /// writes then block and its outbox fills.
    /// </summary>
    public void StallDownstream() => _downstreamFlowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets what the server sent flow on to the browser again.</summary>
    public void ResumeDownstream() => _downstreamFlowing.TrySetResult();

    /// <summary>Resets every open connection in both directions, like a network failure.</summary>
    public void DropAll()
    {
        foreach (RelayedConnection connection in _connections.Keys) connection.Reset();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        ResumeDownstream();
        DropAll();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        if (_refusing)
        {
            RelayedConnection.ResetSocket(client);
            return;
        }
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(Upstream.Host, Upstream.Port, _stopping.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            RelayedConnection.ResetSocket(client);
            server.Dispose();
            return;
        }
        var connection = new RelayedConnection(client, server);
        _connections.TryAdd(connection, 0);
        try
        {
            // A side that closes gracefully is passed on as a FIN; give the other
            // side a moment to finish too, then reset, so no relay stays half-open.
            Task upstream = PumpAsync(client, server, downstream: false);
            Task downstream = PumpAsync(server, client, downstream: true);
            await Task.WhenAny(upstream, downstream);
            await Task.WhenAny(Task.WhenAll(upstream, downstream), Task.Delay(TimeSpan.FromSeconds(2)));
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Reset();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool downstream)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                if (downstream) await _downstreamFlowing.Task;
                int read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                if (downstream && _swallowingDownstream) continue;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The other side (or DropAll) ended the connection.
        }
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }

    private sealed class RelayedConnection(Socket client, Socket server)
    {
        public void Reset()
        {
            ResetSocket(client);
            ResetSocket(server);
        }

        /// <summary>Closes with linger 0, which sends RST: no close handshake, as when a network fails.</summary>
        public static void ResetSocket(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
