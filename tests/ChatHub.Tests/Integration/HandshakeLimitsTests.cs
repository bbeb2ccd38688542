using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The transport handshake keeps Kestrel's clocks and counts what it refuses or leaves to Kestrel.</summary>
public sealed class HandshakeLimitsTests
{
    private static readonly byte[] ValidHead = Encoding.ASCII.GetBytes(HandshakeDifferentialTests.Head());

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_socket_that_sends_nothing_is_closed_without_a_word_after_kestrels_keep_alive_timeout(bool onTransport)
    {
        await using var server = await TestServer.StartAsync("Kestrel:Limits:KeepAliveTimeout=00:00:02", $"Connections:AcceptOnTransport={onTransport}");
        var clock = Stopwatch.StartNew();
        var answer = await RawHttp.SendAsync(server.BaseAddress, [], TimeSpan.FromSeconds(15));
        Assert.Equal("closed", answer.Status);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_socket_quiet_for_longer_than_the_headers_timeout_before_its_first_byte_is_still_upgraded()
    {
        // Before its first byte a connection is idle, and idle is KeepAliveTimeout's to end, not the headers timeout's.
        await using var server = await TestServer.StartAsync("Kestrel:Limits:RequestHeadersTimeout=00:00:01", "Kestrel:Limits:KeepAliveTimeout=00:01:00");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the behaviour under test is a quiet spell
        await tcp.GetStream().WriteAsync(ValidHead);
        var buffer = new byte[12];
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        await tcp.GetStream().ReadExactlyAsync(buffer, cts.Token);
        Assert.Equal("HTTP/1.1 101", Encoding.ASCII.GetString(buffer));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_head_that_does_not_finish_within_the_headers_timeout_gets_408(bool onTransport)
    {
        await using var server = await TestServer.StartAsync("Kestrel:Limits:RequestHeadersTimeout=00:00:02", $"Connections:AcceptOnTransport={onTransport}");
        var clock = Stopwatch.StartNew();
        var answer = await RawHttp.SendAsync(server.BaseAddress, ValidHead[..^2], TimeSpan.FromSeconds(15));
        Assert.Equal("408", answer.Status);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_socket_that_has_sent_nothing_does_not_hold_up_a_shutdown()
    {
        var server = await TestServer.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await using var client = await server.ConnectJsonAsync(); // the server has surely accepted the silent one by now
        await client.ExpectAsync("welcome");

        var clock = Stopwatch.StartNew();
        await server.DisposeAsync();
        // Connections drain within CloseTimeout (5 s) plus a second; the silent socket must not add Kestrel's 130 s.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Refusals_and_heads_left_to_kestrel_are_counted_by_reason()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal("426", (await RawHttp.SendAsync(server.BaseAddress, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), WsClient.Timeout)).Status);
        byte[] badKey = Encoding.ASCII.GetBytes(HandshakeDifferentialTests.Head().Replace("dGhlIHNhbXBsZSBub25jZQ==", "short"));
        Assert.Equal("400", (await RawHttp.SendAsync(server.BaseAddress, badKey, WsClient.Timeout)).Status);
        byte[] folded = Encoding.ASCII.GetBytes(HandshakeDifferentialTests.Head(extra: "X-A: b\r\n c\r\n"));
        Assert.Equal("400", (await RawHttp.SendAsync(server.BaseAddress, folded, WsClient.Timeout)).Status);
        byte[] huge = Encoding.ASCII.GetBytes(HandshakeDifferentialTests.Head(extra: "X-Big: " + new string('a', 40_000) + "\r\n"));
        Assert.Equal("431", (await RawHttp.SendAsync(server.BaseAddress, huge, WsClient.Timeout)).Status);

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("chathub_handshake_refusals_total{otel_scope_name=\"ChatHub\",reason=\"upgrade_required\"} 1", metrics);
        Assert.Contains("chathub_handshake_refusals_total{otel_scope_name=\"ChatHub\",reason=\"bad_key_or_version\"} 1", metrics);
        Assert.Contains("chathub_handshake_handed_on_total{otel_scope_name=\"ChatHub\",reason=\"header_syntax\"} 1", metrics);
        Assert.Contains("chathub_handshake_handed_on_total{otel_scope_name=\"ChatHub\",reason=\"limit\"} 1", metrics);
    }
}
