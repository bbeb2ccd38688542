using System.Globalization;
using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// Keeps this node alive in the cluster and the cluster clean: every third of <c>NodeTimeout</c> it renews its
/// heartbeat on every shard and, in the same script, removes nodes whose heartbeat ran out (their names freed,
/// their members out of their rooms with a presence leave). No leader: every node runs it, and the script is
/// atomic. When a link to a shard comes back, the node re-asserts its names and memberships there. Each beat also
/// lets the bus find rooms whose last publish was lost (<see cref="RedisRoomBus.CatchUpQuietRoomsAsync"/>).
/// </summary>
internal sealed partial class NodeHeartbeat(
    RedisShards shards,
    RedisNameDirectory names,
    RedisRoomMembership membership,
    RedisRoomBus bus,
    NodeIdentity node,
    IOptions<ChatHubOptions> options,
    TimeProvider clock,
    ILogger<NodeHeartbeat> logger) : BackgroundService
{
    private readonly TimeSpan _timeout = options.Value.Cluster.NodeTimeout;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await names.StartAsync();
        shards.Restored += shard => _ = ResyncAsync(shard);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_timeout / 3, clock);
        var beaten = new bool[shards.Count];
        do
        {
            for (int shard = 0; shard < shards.Count; shard++)
            {
                try
                {
                    var answer = (RedisResult[])(await shards.Database(shard).ScriptEvaluateAsync(RedisScripts.Heartbeat,
                        [RedisKeys.Nodes],
                        [node.Id, ((long)_timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), "chathub:"]))!;
                    if ((long)answer[0] == 1 && beaten[shard])
                    {
                        // Alive but too slow to beat in time (a starved CPU, a long pause): the others took this node
                        // for dead and removed its names and members. Nothing else would tell it; claim them back.
                        LogRemovedWhileAlive(logger, shard);
                        await ResyncAsync(shard);
                    }

                    beaten[shard] = true;
                    foreach (var gone in answer.Skip(1))
                    {
                        LogNodeRemoved(logger, (string)gone!, shard);
                    }
                }
                catch (Exception e)
                {
                    LogHeartbeatFailed(logger, e, shard);
                }
            }

            try
            {
                await bus.CatchUpQuietRoomsAsync();
            }
            catch (Exception e)
            {
                LogQuietCheckFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>A node that stops cleanly takes itself out at once instead of waiting for the others to notice.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        for (int shard = 0; shard < shards.Count; shard++)
        {
            try
            {
                await shards.Database(shard).ScriptEvaluateAsync(RedisScripts.Heartbeat, [RedisKeys.Nodes], [node.Id, "-1", "chathub:"]);
            }
            catch (Exception e)
            {
                LogHeartbeatFailed(logger, e, shard);
            }
        }
    }

    private async Task ResyncAsync(int shard)
    {
        try
        {
            await names.ResyncAsync(shard);
            await membership.ResyncAsync(shard);
            LogResynced(logger, shard);
        }
        catch (Exception e)
        {
            LogResyncFailed(logger, e, shard);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} missed its heartbeat: its names and members were removed from shard {Shard}")]
    private static partial void LogNodeRemoved(ILogger logger, string node, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat on Redis shard {Shard} failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node missed its heartbeat on Redis shard {Shard} and the other nodes removed its names and members; re-asserting them")]
    private static partial void LogRemovedWhileAlive(ILogger logger, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking quiet rooms for lost publishes failed")]
    private static partial void LogQuietCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Names and memberships re-asserted on Redis shard {Shard}")]
    private static partial void LogResynced(ILogger logger, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-asserting names and memberships on Redis shard {Shard} failed")]
    private static partial void LogResyncFailed(ILogger logger, Exception exception, int shard);
}
