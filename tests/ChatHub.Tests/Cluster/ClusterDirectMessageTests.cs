using System.Net.Sockets;
using System.Text;
using ChatHub.Server.Backplane;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Cluster;

/// <summary>
/// A DM is a request: it ends in its ack (after the recipient's node got it) or an error frame, also when Redis is
/// slow or away, and a node never takes a connection whose DMs would be published to nobody.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterDirectMessageTests
{
    [Fact]
    public async Task A_node_whose_pubsub_link_connects_late_listens_for_dms_before_it_takes_connections()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var first = await ClusterNodes.StartAsync(1, redis.Configuration);
        using var admin = await RedisConnection.OpenAsync(redis.Port);

        // Room for one more client: the next node's command link gets in, its pub/sub link (the second) is refused
        // until the limit is lifted. Under a busy CPU a node's pub/sub link can lag its command link like this.
        int clients = int.Parse(Field(await admin.CommandAsync("INFO", "clients"), "connected_clients"));
        Assert.Equal("+OK", await admin.CommandAsync("CONFIG", "SET", "maxclients", (clients + 1).ToString()));
        var lifted = LiftAfterAsync(admin, TimeSpan.FromSeconds(2)); // how long the fault lasts, not a wait for an event

        await using var second = await TestServer.StartAsync($"Redis={redis.Configuration}", "Cluster:OperationTimeout=00:00:10");
        string node = second.App.Services.GetRequiredService<NodeIdentity>().Id;
        await lifted;
        // Started means listening: a DM published to this node from now on reaches its connections.
        string subscribers = await redis.CliAsync("PUBSUB", "NUMSUB", "chathub:node:" + node);
        Assert.True(subscribers.Split('\n')[^1].Trim() == "1", $"the node started before it subscribed to its DM channel (PUBSUB NUMSUB: {subscribers.Replace('\n', ' ')})");

        await using var ann = await second.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        await using var bob = await first[0].ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "are you there?", @ref = "d1" });
        Assert.Equal("are you there?", (string?)(await ann.ExpectAsync("dm"))["text"]);
        Assert.Equal("are you there?", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.ExpectAsync("ack"))["ref"]);
    }

    [Fact]
    public async Task A_dm_while_redis_is_paused_is_answered_unavailable_and_one_after_it_is_delivered()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration, "Cluster:OperationTimeout=00:00:01");
        var (ann, bob) = await AnnAndBobAsync(cluster);
        await using var annClient = ann;
        await using var bobClient = bob;

        // Redis takes no command for longer than the operation timeout (1 s). Both DMs go out at once, so each is
        // answered one timeout after it was sent, inside the pause even on a loaded machine. The pause stays short
        // of what the client library would take for a dead link, so the DMs after it meet a working one.
        using (var admin = await RedisConnection.OpenAsync(redis.Port))
        {
            Assert.Equal("+OK", await admin.CommandAsync("CLIENT", "PAUSE", "4000", "ALL"));
        }

        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "slow?", @ref = "d1" });
        await ann.SendJsonAsync(new { type = "dm", to = "nobody", text = "anyone?", @ref = "d2" });
        var answers = new Dictionary<string, string?>();
        while (answers.Count < 2)
        {
            var error = await ann.WaitForAsync("error"); // in either order: each waits for its own round trip
            answers[(string)error["ref"]!] = (string?)error["code"];
        }

        Assert.Equal(new Dictionary<string, string?> { ["d1"] = "unavailable", ["d2"] = "unavailable" }, answers);

        // A command of our own is answered once the pause is over.
        Assert.Equal("PONG", await redis.CliAsync("PING"));
        await ann.SendJsonAsync(new { type = "dm", to = "nobody", text = "anyone now?", @ref = "d3" });
        var notFound = await ann.WaitForAsync("error", e => (string?)e["ref"] == "d3");
        Assert.Equal("no_such_user", (string?)notFound["code"]);
        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "back", @ref = "d4" });
        Assert.Equal("back", (string?)(await bob.WaitForAsync("dm", dm => (string?)dm["text"] == "back"))["text"]);
        Assert.Equal("d4", (string?)(await ann.WaitForAsync("ack", ack => (string?)ack["ref"] == "d4"))["ref"]);
    }

    [Fact]
    public async Task A_dm_while_redis_is_away_is_answered_unavailable()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration, "Cluster:OperationTimeout=00:00:01");
        var (ann, bob) = await AnnAndBobAsync(cluster);
        await using var annClient = ann;
        await using var bobClient = bob;

        await redis.KillAsync();
        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "gone?", @ref = "d1" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal(("unavailable", "d1"), ((string?)error["code"], (string?)error["ref"]));
    }

    /// <summary>ann on the first node, bob on the second, both welcomed.</summary>
    private static async Task<(WsClient Ann, WsClient Bob)> AnnAndBobAsync(ClusterNodes cluster)
    {
        var ann = await cluster[0].ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        var bob = await cluster[1].ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        return (ann, bob);
    }

    private static async Task LiftAfterAsync(RedisConnection admin, TimeSpan after)
    {
        await Task.Delay(after);
        Assert.Equal("+OK", await admin.CommandAsync("CONFIG", "SET", "maxclients", "10000"));
    }

    private static string Field(string info, string name) =>
        info.Split('\n').Select(line => line.Trim()).First(line => line.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..];

    /// <summary>
    /// One raw RESP connection to Redis, kept open: a client already connected is not refused by <c>maxclients</c>,
    /// as a fresh <c>redis-cli</c> would be.
    /// </summary>
    private sealed class RedisConnection : IDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly StreamReader _reader;

        private RedisConnection(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, Encoding.UTF8);
        }

        public static async Task<RedisConnection> OpenAsync(int port)
        {
            var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return new RedisConnection(client);
        }

        /// <summary>Sends one command; returns a simple reply as it came (<c>+OK</c>) or a bulk reply's text.</summary>
        public async Task<string> CommandAsync(params string[] arguments)
        {
            var request = new StringBuilder($"*{arguments.Length}\r\n");
            foreach (string argument in arguments)
            {
                request.Append($"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
            }

            await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
            using var timeout = new CancellationTokenSource(WsClient.Timeout);
            string head = await _reader.ReadLineAsync(timeout.Token) ?? throw new IOException("Redis closed the connection");
            if (!head.StartsWith('$'))
            {
                return head;
            }

            var body = new char[int.Parse(head[1..])];
            int read = 0;
            while (read < body.Length)
            {
                read += await _reader.ReadAsync(body.AsMemory(read), timeout.Token);
            }

            await _reader.ReadLineAsync(timeout.Token); // the CRLF after the bulk string
            return new string(body);
        }

        public void Dispose()
        {
            _reader.Dispose();
            _client.Dispose();
        }
    }
}
