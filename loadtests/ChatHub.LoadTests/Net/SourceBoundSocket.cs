using System.Net;
using System.Net.Sockets;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// A connected TCP socket from a chosen local (source) address: one source address can hold at most ~28k
/// connections to one server address and port (the ephemeral port range), so a ramp past that spreads over
/// 127.0.0.2, 127.0.0.3, ...
/// </summary>
internal static class SourceBoundSocket
{
    // Linux: let connect() pick the port for the whole 4-tuple instead of bind() picking one that is
    // unique per source address; lifts the per-source limit when several servers are targeted.
    private const int IpProtoIp = 0;
    private const int IpBindAddressNoPort = 24;

    /// <param name="receiveBufferBytes">
    /// Fixed SO_RCVBUF (disables Linux autotuning, which can grow a loopback receive buffer to 32 MB and hide a
    /// slow reader from the server for a long time).
    /// </param>
    public static async ValueTask<Socket> ConnectAsync(EndPoint remote, IPAddress? source, int? receiveBufferBytes, CancellationToken ct)
    {
        AddressFamily family = source?.AddressFamily
            ?? (remote is IPEndPoint ip ? ip.AddressFamily : AddressFamily.InterNetwork);
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (receiveBufferBytes is int bytes)
            {
                socket.ReceiveBufferSize = bytes;
            }
            if (source is not null)
            {
                if (OperatingSystem.IsLinux() && family == AddressFamily.InterNetwork)
                {
                    socket.SetRawSocketOption(IpProtoIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(remote, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An IP endpoint when the host is a literal address (no resolver round trip), else a DNS one.</summary>
    public static EndPoint Remote(string host, int port) =>
        IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
}
