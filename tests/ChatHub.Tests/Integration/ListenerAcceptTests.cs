using System.Diagnostics.Metrics;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ChatHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Integration;

/// <summary>
/// ChatHub's own listener: plain upgrades become chat connections with no Kestrel connection under them, every
/// other socket is handed to Kestrel unread, the connection cap counts both, and unbinding ends what is waiting.
/// </summary>
public sealed class ListenerAcceptTests
{
    private static readonly byte[] ValidHead = Encoding.ASCII.GetBytes(HandshakeDifferentialTests.Head());

    [Fact]
    public async Task A_head_split_over_two_writes_is_handed_to_kestrel_and_still_upgrades()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        int half = ValidHead.Length / 2;
        await tcp.GetStream().WriteAsync(ValidHead.AsMemory(0, half));

        // The listener has peeked at the first half and handed the socket to Kestrel before the rest is sent.
        await WaitForMetricAsync(server, "chathub_handshake_handed_on_total{otel_scope_name=\"ChatHub\",reason=\"incomplete\"} 1");
        await tcp.GetStream().WriteAsync(ValidHead.AsMemory(half));

        string head = await RawUpgrade.ReadHeadAsync(tcp);
        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Contains("\r\nDate:", head, StringComparison.Ordinal); // Kestrel's HTTP path answered it
        Assert.Contains("\"type\":\"welcome\"", await ReadUntilAsync(tcp, "welcome"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tls_client_hello_gets_the_answer_kestrel_gives_on_the_http_path()
    {
        await using var onTransport = await TestServer.StartAsync();
        await using var onHttp = await TestServer.StartAsync("Connections:AcceptOnTransport=false");
        // The start of a TLS 1.2 ClientHello record: handshake (0x16), version 3.1, a length, ClientHello (0x01).
        byte[] hello = [0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, .. new byte[32], 0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00];

        var transport = await RawHttp.SendAsync(onTransport.BaseAddress, hello, WsClient.Timeout);
        var http = await RawHttp.SendAsync(onHttp.BaseAddress, hello, WsClient.Timeout);

        Assert.Equal(http.Status, transport.Status);
        Assert.NotEqual("silent", transport.Status);
        Assert.Equal(http.ThroughHttpPipeline, transport.ThroughHttpPipeline);
    }

    [Fact]
    public async Task A_plaintext_upgrade_sent_to_a_tls_endpoint_is_not_upgraded_in_the_clear()
    {
        using var directory = new TempDirectory();
        string certificate = directory.File("tls.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            await File.WriteAllBytesAsync(certificate, selfSigned.Export(X509ContentType.Pfx, "test"));
        }

        await using var server = await TestServer.StartAsync(
            "Kestrel:Endpoints:Plain:Url=http://127.0.0.1:0",
            "Kestrel:Endpoints:Tls:Url=https://127.0.0.1:0",
            $"Kestrel:Endpoints:Tls:Certificate:Path={certificate}",
            "Kestrel:Endpoints:Tls:Certificate:Password=test");
        var addresses = server.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var plain = new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
        var tls = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)));

        // The same plaintext head: upgraded on the plaintext endpoint, refused by TLS on the other (no 101 in clear).
        Assert.Equal("101", (await RawHttp.SendAsync(plain, ValidHead, WsClient.Timeout)).Status);
        var onTls = await RawHttp.SendAsync(tls, ValidHead, WsClient.Timeout);
        Assert.NotEqual("101", onTls.Status);
        Assert.NotEqual("silent", onTls.Status);

        // Through TLS the upgrade works: the listener handed the socket to Kestrel, which decrypts and upgrades it.
        using var client = new ClientWebSocket();
        client.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var timeout = new CancellationTokenSource(WsClient.Timeout);
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{tls.Port}/ws?format=json&name=secure"), timeout.Token);
        var buffer = new byte[4096];
        var result = await client.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("\"type\":\"welcome\"", Encoding.UTF8.GetString(buffer, 0, result.Count), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chat_connection_accepted_by_the_listener_holds_no_kestrel_connection()
    {
        await using var onTransport = await TestServer.StartAsync();
        await using var onHttp = await TestServer.StartAsync("Connections:AcceptOnTransport=false");
        using var transportCount = new KestrelActiveConnections(onTransport);
        using var httpCount = new KestrelActiveConnections(onHttp);

        await using var viaListener = await onTransport.JoinedJsonAsync("name=ann&room=r");
        await using var viaHttp = await onHttp.JoinedJsonAsync("name=ann&room=r");

        // Kestrel counts the connection it serves on the HTTP path (the control), and none on the listener's.
        Assert.Equal(1, httpCount.Value);
        Assert.Equal(0, transportCount.Value);
    }

    [Fact]
    public async Task Past_the_cap_the_listener_closes_new_sockets_counting_those_kestrel_serves_and_the_server_lives()
    {
        await using var server = await TestServer.StartAsync("Limits:MaxConnections=3");
        await using var ann = await server.JoinedJsonAsync("name=ann&room=capped");
        await using var bob = await server.JoinedJsonAsync("name=bob&room=capped");

        // A third socket, which Kestrel serves (an HTTP client's kept-alive connection), takes the last place.
        var http = new HttpClient { BaseAddress = server.BaseAddress };
        await http.GetStringAsync("/metrics");

        // It is counted: a new socket now is closed without an answer.
        await Assert.ThrowsAnyAsync<WebSocketException>(() => server.ConnectJsonAsync("name=late"));
        Assert.Equal("closed", (await RawHttp.SendAsync(server.BaseAddress, ValidHead, WsClient.Timeout)).Status);
        // At least those two (an HTTP client may try again on a connection closed before any answer).
        await WaitForMetricAsync(http, "chathub_connections_rejected_total{otel_scope_name=\"ChatHub\"} ", value => value >= 2);

        // The connections held carry on.
        await ann.SendJsonAsync(new { type = "say", room = "capped", text = "still here" });
        Assert.Equal("still here", (string?)(await bob.WaitForAsync("message"))["text"]);

        // Once Kestrel's connection has closed, its place is free again.
        http.Dispose();
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        WsClient? late = null;
        while (late is null)
        {
            try
            {
                late = await server.ConnectJsonAsync("name=late&room=capped");
            }
            catch (WebSocketException)
            {
                await Task.Delay(20, cts.Token); // polling until the server has seen the close, bounded by the timeout
            }
        }

        await using (late)
        {
            await late.ExpectAsync("welcome");
        }
    }

    [Fact]
    public async Task Unbinding_closes_silent_sockets_at_once_and_a_handshake_under_way_at_the_drain_gets_503()
    {
        var server = await TestServer.StartAsync("Connections:CloseTimeout=00:00:30", "Kestrel:Limits:KeepAliveTimeout=00:02:00");
        using var silent = new TcpClient();
        await silent.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        using var late = new TcpClient { NoDelay = true };
        await late.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);

        // A client that does not answer the close keeps the drain going, with the listener still bound.
        var stubborn = await server.ConnectJsonAsync();
        stubborn.AnswersClose = false;
        await stubborn.ExpectAsync("welcome");
        var stop = server.StopAsync();
        Assert.Null(await stubborn.ReceiveAsync()); // its 1001 arrived: the drain is on

        // The socket accepted before the drain sends its upgrade now: it is answered 503.
        await late.GetStream().WriteAsync(ValidHead);
        Assert.StartsWith("HTTP/1.1 503 ", await RawUpgrade.ReadHeadAsync(late));

        // The drain ends, the listener unbinds: the silent socket is closed then, long before KeepAliveTimeout.
        await stubborn.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stop;
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        Assert.Equal(0, await silent.GetStream().ReadAsync(new byte[1], cts.Token));
        await server.DisposeAsync();
        await stubborn.DisposeAsync();
    }

    private static async Task WaitForMetricAsync(TestServer server, string line)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await WaitForMetricAsync(http, line);
    }

    /// <summary>Scrapes until the line is there: the exporter caches a scrape for a moment.</summary>
    private static Task WaitForMetricAsync(HttpClient http, string line) =>
        WaitForMetricAsync(http, line[..(line.LastIndexOf(' ') + 1)], value => value == long.Parse(line[(line.LastIndexOf(' ') + 1)..]));

    /// <summary>Scrapes until the series (its name and labels, up to the value) has a value that fits.</summary>
    private static async Task WaitForMetricAsync(HttpClient http, string series, Func<long, bool> fits)
    {
        var deadline = DateTime.UtcNow + WsClient.Timeout;
        while (true)
        {
            string scraped = await http.GetStringAsync("/metrics");
            string? found = scraped.Split('\n').FirstOrDefault(l => l.StartsWith(series, StringComparison.Ordinal));
            if (found is not null && fits(long.Parse(found[series.Length..])))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no fitting '{series}' in time; scraped: {found ?? "(none)"}");
            await Task.Delay(20); // polling a condition the server reports, bounded by the deadline
        }
    }

    private static async Task<string> ReadUntilAsync(TcpClient tcp, string text)
    {
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains(text, StringComparison.Ordinal))
        {
            int n = await tcp.GetStream().ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, n);
            received.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }

        return received.ToString();
    }

    /// <summary>Kestrel's own count of the connections it serves (<c>kestrel.active_connections</c>) in one server.</summary>
    private sealed class KestrelActiveConnections : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value;

        public KestrelActiveConnections(TestServer server)
        {
            var factory = server.App.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "kestrel.active_connections" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _value, value));
            _listener.Start();
        }

        public long Value => Interlocked.Read(ref _value);

        public void Dispose() => _listener.Dispose();
    }
}
