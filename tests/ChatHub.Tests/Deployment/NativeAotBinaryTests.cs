using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatHub.Tests.Cluster;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Deployment;

/// <summary>
/// The published Native AOT executable does what the server does under the JIT: every library that could break
/// under trimming (JSON, options binding and validation, Serilog's JSON logs, SQLite's native library, JWT
/// validation, the Prometheus exporter, StackExchange.Redis) is exercised in the binary itself, over real sockets.
/// </summary>
public sealed partial class NativeAotBinaryTests(NativeAotBinary binary) : IClassFixture<NativeAotBinary>, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<ServerProcess> _servers = [];

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Chats_logs_json_serves_metrics_and_keeps_sqlite_history_across_a_restart()
    {
        string db = _dir.File("chathub.db");
        int port = ServerProcess.FreePort();
        var first = await StartAsync(port, [$"--ChatHub:Storage:SqlitePath={db}"], json: true);

        // Serilog's compact JSON, one event per line, with the source-generated log messages' properties.
        var events = first.StartupOutput.Select(line => JsonNode.Parse(line)!.AsObject()).ToList();
        Assert.All(events, e => Assert.NotNull((string?)e["@t"]));
        Assert.Contains(events, e => (string?)e["SourceContext"] == "ChatHub.Server.Limits" && (int?)e["MaxConnections"] > 0);

        await using (var ann = await JoinAsync(port, "ann", "&presence=batch"))
        await using (var bob = await JoinAsync(port, "bob"))
        {
            await ann.SendJsonAsync(new { type = "say", room = "aot", text = "native hello", @ref = "r1" });

            // The presence batch extension's frame (its own source-generated type) is written by the binary too, at
            // the latest before the message that follows the change.
            var batch = await ann.WaitForAsync("presence_batch", HasJoinOf("bob"));
            Assert.Equal(2, (int)batch["memberCount"]!);
            Assert.Equal("ann", (string?)(await ann.ExpectAsync("message"))["from"]);

            Assert.Equal(1, (long)(await ann.WaitForAsync("ack", f => (string?)f["ref"] == "r1"))["seq"]!);
            var message = await bob.WaitForAsync("message");
            Assert.Equal(("ann", "native hello", 1L), ((string?)message["from"], (string?)message["text"], (long)message["seq"]!));

            string metrics = await GetAsync(port, "/metrics");
            Assert.Matches(ConnectionsGauge(), metrics);
            Assert.Contains("chathub_messages_in_total", metrics);
        }

        first.SendSigterm();
        Assert.Equal(0, await first.WaitForExitAsync());

        // The same file after a restart: the history is there and the sequence carries on.
        await StartAsync(port, [$"--ChatHub:Storage:SqlitePath={db}"]);
        await using var again = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name=cy"));
        await again.ExpectAsync("welcome");
        await again.SendJsonAsync(new { type = "join", room = "aot", since = 0 });
        var joined = await again.ExpectAsync("joined");
        var history = joined["history"]!.AsArray();
        Assert.Equal(("native hello", 1L), ((string?)history.Single()!["text"], (long)history.Single()!["seq"]!));
        await again.SendJsonAsync(new { type = "say", room = "aot", text = "after restart", @ref = "r2" });
        Assert.Equal(2, (long)(await again.WaitForAsync("ack", f => (string?)f["ref"] == "r2"))["seq"]!);
    }

    [Fact]
    public async Task Tokens_the_binary_issues_admit_their_subject_and_forged_ones_get_401()
    {
        string[] key = [$"--ChatHub:Security:Token:SigningKey={TestTokens.Secret}"];
        var issued = await ToolProcess.RunAsync(binary.Executable, _dir.Path, ["token", "--sub", "ann", .. key]);
        Assert.Equal(0, issued.ExitCode);
        string token = issued.Output.Trim();

        int port = ServerProcess.FreePort();
        await StartAsync(port, key);
        await using (var ann = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&token={token}")))
        {
            Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
        }

        using var tokens = new TestTokens();
        string forged = tokens.Hs256("mallory", secret: "another-secret-that-is-at-least-32-bytes-long");
        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() =>
            WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&token={forged}")));
        Assert.Contains("401", refused.Message);
    }

    [Fact]
    public async Task Two_binaries_share_a_room_through_a_real_redis_server()
    {
        await using var redis = await RedisServer.StartAsync();
        int portA = ServerProcess.FreePort(), portB = ServerProcess.FreePort();
        await StartAsync(portA, [$"--ChatHub:Redis={redis.Configuration}"]);
        await StartAsync(portB, [$"--ChatHub:Redis={redis.Configuration}"]);

        await using var ann = await JoinAsync(portA, "ann");
        await using var bob = await JoinAsync(portB, "bob");
        await ann.SendJsonAsync(new { type = "say", room = "aot", text = "across nodes", @ref = "r1" });
        long seq = (long)(await ann.WaitForAsync("ack", f => (string?)f["ref"] == "r1"))["seq"]!;
        var message = await bob.WaitForAsync("message", f => (string?)f["text"] == "across nodes");
        Assert.Equal(seq, (long)message["seq"]!);
        Assert.NotEqual("0", await redis.CliAsync("DBSIZE"));
    }

    private async Task<ServerProcess> StartAsync(int port, string[] arguments, bool json = false)
    {
        var environment = new Dictionary<string, string>();
        if (json)
        {
            environment["ChatHub__Logging__Format"] = "json";
        }

        var server = await ServerProcess.StartAsync(
            [$"--urls=http://127.0.0.1:{port}", "--ChatHub:Security:PerIp:HandshakesPerSecond=0", .. arguments], environment, binary.Executable);
        _servers.Add(server);
        return server;
    }

    private static async Task<WsClient> JoinAsync(int port, string name, string extra = "")
    {
        var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name={name}&room=aot{extra}"));
        await client.ExpectAsync("welcome");
        await client.ExpectAsync("joined");
        return client;
    }

    private static Func<JsonObject, bool> HasJoinOf(string name) =>
        batch => batch["changes"]!.AsArray().Any(c => (string?)c!["event"] == "join" && (string?)c["name"] == name);

    private static async Task<string> GetAsync(int port, string path)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{port}{path}");
    }

    [GeneratedRegex(@"(?m)^chathub_connections(\{[^}]*\})? 2(\s|$)")]
    private static partial Regex ConnectionsGauge();
}
