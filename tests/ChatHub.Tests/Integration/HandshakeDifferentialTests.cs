using System.Text;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The transport handshake answers every request head exactly as Kestrel's HTTP path does: the same heads sent to
/// a server accepting on the transport and to one accepting through ASP.NET Core get the same status. Hand-written
/// malformed heads, then heads mutated at random from a valid upgrade (seed: CHATHUB_FUZZ_SEED, printed on failure).
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class HandshakeDifferentialTests : IAsyncLifetime
{
    // A short headers timeout keeps the heads a mutation left unfinished from waiting 30 s; both paths share it.
    private static readonly string[] Settings = ["Kestrel:Limits:RequestHeadersTimeout=00:00:02"];
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private TestServer? _transport;
    private TestServer? _http;

    public async Task InitializeAsync()
    {
        _transport = await TestServer.StartAsync(Settings);
        _http = await TestServer.StartAsync([.. Settings, "Connections:AcceptOnTransport=false"]);
    }

    public async Task DisposeAsync()
    {
        await _transport!.DisposeAsync();
        await _http!.DisposeAsync();
    }

    public static TheoryData<string, string, string> Corpus => new()
    {
        { "valid", Head(), "101" },
        { "duplicate key", Head(extra: Key), "400" },
        { "duplicate version", Head(extra: "Sec-WebSocket-Version: 13\r\n"), "400" },
        { "space before colon", Head(host: "Host : x\r\n"), "400" },
        { "obs-fold", Head(extra: "X-A: b\r\n c\r\n"), "400" },
        { "NUL in a value", Head(extra: "X-A: b\0c\r\n"), "400" },
        { "CR in a value", Head(extra: "X-A: b\rc\r\n"), "400" },
        { "non-ASCII value", Head(extra: "X-A: b\u00e9c\r\n"), "400" },
        { "no Host", Head(host: ""), "400" },
        { "two Hosts", Head(extra: "Host: y\r\n"), "400" },
        { "Host with a space", Head(host: "Host: a b\r\n"), "400" },
        { "Host with a bad port", Head(host: "Host: x:abc\r\n"), "400" },
        { "HTTP/1.0", Head(version: "HTTP/1.0"), "101" },
        { "HTTP/1.7", Head(version: "HTTP/1.7"), "505" },
        { "HTTP/2.0", Head(version: "HTTP/2.0"), "505" },
        { "lower-case version", Head(version: "http/1.1"), "505" },
        { "Content-Length: 0", Head(extra: "Content-Length: 0\r\n"), "101" },
        { "Content-Length with a body", Head(extra: "Content-Length: 5\r\n") + "hello", "426" },
        { "chunked body", Head(extra: "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", "426" },
        { "bare LF line ends", Head().Replace("\r\n", "\n"), "101" },
        { "bare LF blank line", Head()[..^2] + "\n", "101" },
        { "CR inside the request line", Head().Replace("HTTP/1.1\r\n", "HTTP/1.1\rHost: y\r\n"), "400" },
        { "40 KB header", Head(extra: "X-Big: " + new string('a', 40_000) + "\r\n"), "431" },
        { "101 headers", Head(extra: string.Concat(Enumerable.Range(0, 101).Select(i => $"X-H{i}: v\r\n"))), "431" },
        { "9 KB request line", Head(query: "?" + new string('a', 9000)), "414" },
        { "request line at the limit", Head(query: "?" + new string('a', 8192 - 20)), "101" },
        { "headers at the limit", Head(extra: "X-Big: " + new string('a', 32 * 1024 - 300) + "\r\n"), "101" },
        { "two spaces", Head().Replace("GET /ws", "GET  /ws"), "400" },
        { "non-ASCII target", Head(query: "?a=\u00e9"), "400" },
        { "control in target", Head(query: "?a=\u0001"), "101" },
        { "empty header name", Head(extra: ": v\r\n"), "400" },
        { "unfinished head", Head()[..^2], "408" },
        { "nothing but a request line", "GET /ws HTTP/1.1\r\n", "408" },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Hand_written_heads_get_the_same_answer_on_both_paths(string name, string head, string expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(head);
        var (transport, http) = await SendToBothAsync(bytes);
        Assert.True(transport.Status == http.Status, $"{name}: transport {transport.Status}, HTTP path {http.Status}\n{transport.Head}\n{http.Head}");
        Assert.Equal(expected, http.Status);
    }

    [Fact]
    public async Task A_plain_valid_upgrade_is_taken_on_the_transport_path()
    {
        var (transport, http) = await SendToBothAsync(Encoding.ASCII.GetBytes(Head()));
        Assert.Equal(("101", "101"), (transport.Status, http.Status));
        Assert.False(transport.ThroughHttpPipeline);
        Assert.True(http.ThroughHttpPipeline);
    }

    [Fact]
    public async Task Randomly_mutated_heads_get_the_same_answer_on_both_paths()
    {
        int seed = FuzzSeed.Get();
        var random = new Random(seed);
        const int cases = 400;
        var heads = Enumerable.Range(0, cases).Select(_ => HeadMutator.Mutate(random)).ToList();
        int transportTook = 0;
        using var gate = new SemaphoreSlim(16);
        var results = await Task.WhenAll(heads.Select(async head =>
        {
            await gate.WaitAsync();
            try
            {
                return (head, answers: await SendToBothAsync(head));
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var (head, (transport, http)) in results)
        {
            Assert.True(transport.Status == http.Status,
                $"seed {seed}: transport {transport.Status}, HTTP path {http.Status} for\n{Printable(head)}");
            transportTook += transport.Status == "101" && !transport.ThroughHttpPipeline ? 1 : 0;
        }

        // The mutations leave some heads valid and plain: the transport path must have taken those itself.
        Assert.True(transportTook > 0, $"seed {seed}: the transport path took no upgrade at all");
        Assert.Contains(results, r => r.answers.Http.Status != "101");
    }

    private async Task<(RawHttp.Answer Transport, RawHttp.Answer Http)> SendToBothAsync(byte[] head)
    {
        var transport = RawHttp.SendAsync(_transport!.BaseAddress, head, Wait);
        var http = RawHttp.SendAsync(_http!.BaseAddress, head, Wait);
        return (await transport, await http);
    }

    private const string Key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    internal static string Head(string host = "Host: x\r\n", string extra = "", string version = "HTTP/1.1", string query = "?format=json") =>
        $"GET /ws{query} {version}\r\n{host}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n{Key}{extra}\r\n";

    private static string Printable(byte[] head) =>
        string.Concat(Encoding.Latin1.GetString(head[..Math.Min(head.Length, 600)]).Select(c => c is '\r' ? "\\r" : c is '\n' ? "\\n\n" : c < 32 || c > 126 ? $"\\x{(int)c:X2}" : c.ToString()));
}
