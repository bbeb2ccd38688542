using System.Net.Sockets;
using ChatHub.Server.Configuration;

namespace ChatHub.Server.Connections;

/// <summary>
/// Turns on TCP keep-alive for a WebSocket's socket, so a peer that vanished without a FIN or RST (power cut,
/// cable, NAT timeout) is found by the kernel at no cost to the process: no timer, no buffer per connection.
/// Only needed when the WebSocket's own ping with a timeout is off (<c>KeepAliveInterval</c> or
/// <c>KeepAliveTimeout</c> zero): that ping finds the same peers sooner, and both at once would only race.
/// </summary>
internal static class TcpKeepAlive
{
    public static void Enable(Socket? socket, ConnectionOptions options)
    {
        bool pingsTimeOut = options.KeepAliveInterval > TimeSpan.Zero && options.KeepAliveTimeout > TimeSpan.Zero;
        if (socket is null || pingsTimeOut || options.TcpKeepAliveTime <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Seconds(options.TcpKeepAliveTime));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Seconds(options.TcpKeepAliveInterval));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.TcpKeepAliveProbes);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer is already gone; the read loop will find out.
        }
    }

    private static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));
}
