using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The listener's <c>101</c> leaves in the same socket send as the connection's first frames (the <c>welcome</c>,
/// and the query's <c>joined</c>): the bytes and their order are what they were when it left alone, a client that
/// reads the 101 by itself (and nothing past it) still gets its frames, and a refusal is still answered at once.
/// </summary>
public sealed class UpgradeResponseTests
{
    // RFC 6455's sample key and the accept it gives.
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static readonly byte[] Expected101 = Encoding.ASCII.GetBytes(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

    [Fact]
    public async Task The_101_the_welcome_and_the_joined_arrive_together_in_that_order()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server, "format=json&name=alice&room=lobby");

        // One send on loopback is one segment, which a single read takes whole; sent apart, the 101 and the frames
        // would be two segments (counted by the kernel: DataSegmentsIn), whether or not one read takes both.
        var buffer = new byte[64 * 1024];
        int read = await tcp.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(WsClient.Timeout);
        var bytes = buffer.AsMemory(0, read);

        Assert.True(bytes.Span.StartsWith(Expected101), $"not the expected 101: {Encoding.ASCII.GetString(bytes.Span)}");
        var frames = ParseFrames(bytes[Expected101.Length..]);
        Assert.Equal(2, frames.Count);
        Assert.All(frames, frame => Assert.Equal(0x81, frame.Header)); // final text frames, unmasked
        Assert.Contains("\"type\":\"welcome\"", frames[0].Text, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"alice\"", frames[0].Text, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"joined\"", frames[1].Text, StringComparison.Ordinal);
        Assert.Contains("\"room\":\"lobby\"", frames[1].Text, StringComparison.Ordinal);
        Assert.Equal(1u, DataSegmentsIn(tcp));
    }

    [Fact]
    public async Task A_client_that_asks_for_nothing_gets_its_101_with_its_welcome_at_once()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server, "format=json");

        var buffer = new byte[64 * 1024];
        int read = await tcp.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(WsClient.Timeout);
        var bytes = buffer.AsMemory(0, read);

        Assert.True(bytes.Span.StartsWith(Expected101), $"not the expected 101: {Encoding.ASCII.GetString(bytes.Span)}");
        var frame = Assert.Single(ParseFrames(bytes[Expected101.Length..]));
        Assert.Contains("\"type\":\"welcome\"", frame.Text, StringComparison.Ordinal);
        Assert.Equal(1u, DataSegmentsIn(tcp));
    }

    [Fact]
    public async Task A_client_that_reads_the_101_alone_then_its_frames_is_served_as_before()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server, "format=json&name=bob&room=lobby");

        // Byte by byte up to the blank line: nothing past the 101 is taken with it.
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            Assert.Equal(1, await tcp.ReceiveAsync(one, SocketFlags.None).WaitAsync(WsClient.Timeout));
            head.Add(one[0]);
        }

        Assert.Equal(Expected101, head.ToArray());
        Assert.Contains("\"type\":\"welcome\"", await ReadTextFrameAsync(tcp), StringComparison.Ordinal);
        Assert.Contains("\"type\":\"joined\"", await ReadTextFrameAsync(tcp), StringComparison.Ordinal);

        // The connection works on: a message to the room comes back to its sender, acked.
        await tcp.SendAsync(RawWebSocket.TextFrame("{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"hi\",\"ref\":\"r1\"}"), SocketFlags.None);
        string message = await ReadTextFrameAsync(tcp);
        Assert.Contains("\"type\":\"message\"", message, StringComparison.Ordinal);
        Assert.Contains("\"text\":\"hi\"", message, StringComparison.Ordinal);
        string ack = await ReadTextFrameAsync(tcp);
        Assert.Contains("\"type\":\"ack\"", ack, StringComparison.Ordinal);
        Assert.Contains("\"ref\":\"r1\"", ack, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_upgrade_is_answered_at_once_with_its_status()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        // Version 12: refused with 426 by the listener's own checks.
        await tcp.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: {Key}\r\n\r\n"), SocketFlags.None);

        var buffer = new byte[4096];
        int read = await tcp.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(WsClient.Timeout);
        Assert.StartsWith("HTTP/1.1 4", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        Assert.DoesNotContain("101", Encoding.ASCII.GetString(buffer, 0, 12), StringComparison.Ordinal);
    }

    /// <summary>
    /// Linux's count of the data segments this socket has received (<c>tcpi_data_segs_in</c> of <c>TCP_INFO</c>): on
    /// loopback, one per socket send of the server's.
    /// </summary>
    private static uint DataSegmentsIn(Socket tcp)
    {
        Assert.True(OperatingSystem.IsLinux(), "the server runs on Linux");
        const int IpProtoTcp = 6, TcpInfo = 11, DataSegsInOffset = 152;
        var info = new byte[256];
        int length = tcp.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        Assert.True(length >= DataSegsInOffset + 4, $"TCP_INFO too short: {length} bytes");
        return BitConverter.ToUInt32(info, DataSegsInOffset);
    }

    private static async Task<Socket> ConnectAsync(TestServer server, string query)
    {
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await tcp.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /ws?{query} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {Key}\r\n\r\n"), SocketFlags.None);
        return tcp;
    }

    /// <summary>Whole server frames (short or 16-bit lengths), each with its first header byte and its text.</summary>
    private static List<(byte Header, string Text)> ParseFrames(ReadOnlyMemory<byte> bytes)
    {
        var frames = new List<(byte, string)>();
        var span = bytes.Span;
        while (span.Length > 0)
        {
            Assert.True(span.Length >= 2, "a frame cut short");
            int length = span[1] & 0x7F;
            int header = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                header = 4;
            }

            Assert.True(length < 127 || header == 4, "unexpectedly long frame");
            Assert.True(span.Length >= header + length, "a frame cut short");
            frames.Add((span[0], Encoding.UTF8.GetString(span.Slice(header, length))));
            span = span[(header + length)..];
        }

        return frames;
    }

    private static async Task<string> ReadTextFrameAsync(Socket tcp)
    {
        var header = new byte[2];
        await ReadExactlyAsync(tcp, header);
        Assert.Equal(0x81, header[0]);
        int length = header[1] & 0x7F;
        if (length == 126)
        {
            var extended = new byte[2];
            await ReadExactlyAsync(tcp, extended);
            length = BinaryPrimitives.ReadUInt16BigEndian(extended);
        }

        var payload = new byte[length];
        await ReadExactlyAsync(tcp, payload);
        return Encoding.UTF8.GetString(payload);
    }

    private static async Task ReadExactlyAsync(Socket tcp, Memory<byte> buffer)
    {
        for (int done = 0; done < buffer.Length;)
        {
            int read = await tcp.ReceiveAsync(buffer[done..], SocketFlags.None).AsTask().WaitAsync(WsClient.Timeout);
            Assert.True(read > 0, "the server closed");
            done += read;
        }
    }
}
