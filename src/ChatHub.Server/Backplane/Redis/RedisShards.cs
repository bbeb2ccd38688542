using System.IO.Hashing;
using System.Text;
using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// The cluster's Redis instances, one shared multiplexer each. A room's keys (and a name's) live on one
/// instance chosen by a jump consistent hash of the room (or name), so adding an instance moves only about
/// 1/n of the rooms and every node computes the same placement with no coordination.
/// </summary>
internal sealed partial class RedisShards : IAsyncDisposable
{
    private readonly ConfigurationOptions[] _configurations;
    private readonly ILogger<RedisShards> _logger;
    private ConnectionMultiplexer[] _shards = [];

    public RedisShards(IOptions<ChatHubOptions> options, ILogger<RedisShards> logger)
    {
        _logger = logger;
        var cluster = options.Value.Cluster;
        _configurations = options.Value.Redis!
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text =>
            {
                var configuration = ConfigurationOptions.Parse(text);
                // Never wait for a Redis that is away: fail at once, answer `unavailable`, reconnect behind the scenes.
                configuration.AbortOnConnectFail = false;
                configuration.BacklogPolicy = BacklogPolicy.FailFast;
                configuration.AsyncTimeout = (int)cluster.OperationTimeout.TotalMilliseconds;
                configuration.SyncTimeout = (int)cluster.OperationTimeout.TotalMilliseconds;
                configuration.ConnectTimeout = (int)Math.Max(5000, cluster.OperationTimeout.TotalMilliseconds);
                configuration.ConnectRetry = 3;
                configuration.ReconnectRetryPolicy = new LinearRetry(500);
                configuration.ClientName ??= "chathub";
                return configuration;
            })
            .ToArray();
        if (_configurations.Length == 0)
        {
            throw new InvalidOperationException("ChatHub:Redis names no Redis instance");
        }
    }

    /// <summary>Raised (on a Redis thread) when a link to a shard is back after it was lost.</summary>
    public event Action<int>? Restored;

    public int Count => _configurations.Length;

    public bool IsConnected => _shards.Length > 0 && _shards.All(shard => shard.IsConnected);

    /// <summary>Whether the shard's link for commands is up (its pub/sub link may still be connecting).</summary>
    public bool IsShardConnected(int shard) => shard < _shards.Length && _shards[shard].IsConnected;

    public async Task ConnectAsync()
    {
        var shards = new ConnectionMultiplexer[_configurations.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            int index = i;
            shards[i] = await ConnectionMultiplexer.ConnectAsync(_configurations[i]);
            shards[i].ConnectionFailed += (_, e) => LogLost(_logger, index, e.ConnectionType, e.FailureType);
            shards[i].ConnectionRestored += (_, e) =>
            {
                LogRestored(_logger, index, e.ConnectionType);
                Restored?.Invoke(index);
            };
        }

        _shards = shards;

        // A node may start while Redis is away (it then serves nothing but a 503 readiness until Redis is
        // back); when Redis is there, it starts only once connected, so its first requests do not fail.
        var deadline = DateTime.UtcNow + StartWait;
        while (!IsConnected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50); // the multiplexer offers no awaitable "connected"; this wait is bounded
        }
    }

    /// <summary>How long a starting node waits for its first link to every shard.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(15);

    public IDatabase Database(int shard) => _shards[shard].GetDatabase();

    public ISubscriber Subscriber(int shard) => _shards[shard].GetSubscriber();

    public int ForRoom(string room) => Place("r:" + room);

    /// <summary>Names compare without case, so they are placed by their lower-case form.</summary>
    public int ForName(string lowerName) => Place("n:" + lowerName);

    private int Place(string key)
    {
        if (_configurations.Length == 1)
        {
            return 0;
        }

        ulong hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
        return JumpHash(hash, _configurations.Length);
    }

    /// <summary>Lamping and Veach's jump consistent hash (the one Centrifugo uses for its Redis shards).</summary>
    internal static int JumpHash(ulong key, int buckets)
    {
        long b = -1, j = 0;
        while (j < buckets)
        {
            b = j;
            key = key * 2862933555777941757UL + 1;
            j = (long)((b + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
        }

        return (int)b;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _shards)
        {
            await shard.CloseAsync();
            await shard.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis shard {Shard}: {ConnectionType} link lost ({Failure})")]
    private static partial void LogLost(ILogger logger, int shard, ConnectionType connectionType, ConnectionFailureType failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis shard {Shard}: {ConnectionType} link restored")]
    private static partial void LogRestored(ILogger logger, int shard, ConnectionType connectionType);
}
