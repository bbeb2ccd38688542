using System.Diagnostics;
using ChatHub.Server.Backplane.Local;
using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using StackExchange.Redis;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// Names unique across the cluster: a claim is local first (this node's connections), then in Redis on the
/// name's shard (<see cref="RedisScripts.Claim"/>, atomic). Redis records which nodes hold a name: one, or several
/// for a token user's devices connected to several nodes (all sharing). A DM goes straight to this node's holders;
/// <see cref="RedisScripts.Direct"/> publishes it on the node channel of every other holding node.
/// </summary>
internal sealed partial class RedisNameDirectory : INameDirectory, IDisposable
{
    private const string NodeChannelPrefix = "chathub:node:";

    /// <summary>How long a starting node waits for its DM channels while Redis is there (as for its first link).</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(15);

    /// <summary>Between subscription attempts: short, since a link that is connecting is up within moments.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly CancellationTokenSource _stopping = new();

    private readonly LocalNameDirectory _local = new();
    private readonly RedisShards _shards;
    private readonly NodeIdentity _node;
    private readonly ILogger<RedisNameDirectory> _logger;

    public RedisNameDirectory(RedisShards shards, NodeIdentity node, ILogger<RedisNameDirectory> logger)
    {
        _shards = shards;
        _node = node;
        _logger = logger;
    }

    /// <summary>
    /// Listens for DMs sent to this node's connections, on every shard (a name's shard routes them). Completes once
    /// each shard's DM channel is subscribed, so the node takes no connection whose DMs would be published to
    /// nobody: pub/sub keeps nothing for a channel without a subscriber, while the sender's script counts the
    /// publish and acks. The multiplexer's links come up one after the other, and SUBSCRIBE needs the second one
    /// (fail-fast: it fails at once while that link is still connecting), so the start retries briefly. It does not
    /// wait for a Redis that is away (the node then starts unready) nor beyond <see cref="StartWait"/>; the retries
    /// go on in the background until the node stops, and once subscribed StackExchange.Redis re-subscribes after
    /// reconnects.
    /// </summary>
    public Task StartAsync()
    {
        var started = new Task[_shards.Count];
        for (int shard = 0; shard < _shards.Count; shard++)
        {
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            started[shard] = listening.Task;
            _ = SubscribeAsync(shard, listening);
        }

        return Task.WhenAll(started);
    }

    /// <summary>
    /// Ends the subscription retries of a node that stops. Runs twice (the container disposes the instance as itself
    /// and as <see cref="INameDirectory"/>), so it only cancels: a source with no timer holds nothing to dispose.
    /// </summary>
    public void Dispose() => _stopping.Cancel();

    private async Task SubscribeAsync(int shard, TaskCompletionSource listening)
    {
        var channel = RedisKeys.NodeChannel(_node.Id);
        long startedAt = Stopwatch.GetTimestamp();
        var stopping = _stopping.Token;
        for (int failures = 0; !stopping.IsCancellationRequested; failures++)
        {
            ISubscriber? subscriber = null;
            try
            {
                subscriber = _shards.Subscriber(shard);
                var queue = await subscriber.SubscribeAsync(channel);
                queue.OnMessage(message => Receive(message.Message));
                LogSubscribed(_logger, shard, failures);
                listening.TrySetResult();
                return;
            }
            catch (ObjectDisposedException)
            {
                listening.TrySetResult(); // the multiplexer is gone: the node is stopping
                return;
            }
            catch (Exception e)
            {
                if (failures == 0)
                {
                    LogSubscribeFailed(_logger, e, shard);
                }

                // The failed SUBSCRIBE left its queue registered in the multiplexer, which subscribes it again with
                // the link: nobody would read that queue, and it would keep a copy of every DM to this node for ever.
                if (subscriber is not null)
                {
                    await ForgetSubscriptionAsync(subscriber, channel);
                }

                if (!_shards.IsShardConnected(shard) || Stopwatch.GetElapsedTime(startedAt) > StartWait)
                {
                    listening.TrySetResult(); // Redis is away (or will not take it): start, unready, and keep trying
                }
            }

            try
            {
                await Task.Delay(RetryDelay, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        listening.TrySetResult();
    }

    private async Task ForgetSubscriptionAsync(ISubscriber subscriber, RedisChannel channel)
    {
        try
        {
            await subscriber.UnsubscribeAsync(channel); // every handler and queue of the channel: all this directory's
        }
        catch (Exception e)
        {
            // Unregistered here already; only the UNSUBSCRIBE to a Redis that is away failed, and it forgets anyway.
            LogUnsubscribeFailed(_logger, e, channel.ToString());
        }
    }

    public async ValueTask<ClaimOutcome> TryClaimAsync(string name, ChatConnection owner)
    {
        var heldHere = _local.FindLocal(name);
        if (Array.IndexOf(heldHere, owner) >= 0)
        {
            return ClaimOutcome.Claimed;
        }

        if (!_local.TryClaim(name, owner))
        {
            return ClaimOutcome.Taken;
        }

        if (heldHere.Length > 0)
        {
            // Another device of the same user holds it on this node, so this node holds it in Redis already.
            return ClaimOutcome.Claimed;
        }

        try
        {
            if (await ClaimInRedisAsync(name, owner.SharesName))
            {
                return ClaimOutcome.Claimed;
            }

            _local.Release(name, owner);
            return ClaimOutcome.Taken;
        }
        catch (Exception e)
        {
            LogClaimFailed(_logger, e, name);
            // A token user's name is the token's whatever Redis says: it keeps the name here, and the resync when
            // Redis is back claims it there (as for a guest). Any other claimant waits and picks it again.
            if (!owner.SharesName)
            {
                _local.Release(name, owner);
            }

            return ClaimOutcome.Unavailable;
        }
    }

    public void Release(string name, ChatConnection owner)
    {
        if (Array.IndexOf(_local.FindLocal(name), owner) < 0)
        {
            return;
        }

        _local.Release(name, owner);
        if (_local.FindLocal(name).Length == 0)
        {
            _ = ReleaseInRedisAsync(name); // the last of this node's connections holding it
        }
    }

    public async ValueTask<string> ClaimGuestNameAsync(ChatConnection owner)
    {
        while (true)
        {
            string name = LocalNameDirectory.NewGuestName();
            switch (await TryClaimAsync(name, owner))
            {
                case ClaimOutcome.Claimed:
                    return name;
                case ClaimOutcome.Unavailable:
                    // A guest must be called something; six random characters rarely collide, and the name is
                    // claimed in Redis when it comes back (see NodeHeartbeat's resync).
                    if (_local.TryClaim(name, owner))
                    {
                        return name;
                    }

                    break;
            }
        }
    }

    public ChatConnection[] FindLocal(string name) => _local.FindLocal(name);

    public async ValueTask<DirectDelivery> SendDirectAsync(DmEvent dm)
    {
        var here = _local.DeliverLocally(dm);
        if (here.Local is [{ SharesName: false }, ..])
        {
            return here; // held here by a connection that does not share: no other node can hold it
        }

        // Nobody here, or a token user who may have devices on other nodes too: every other holding node gets it.
        string lower = dm.To.ToLowerInvariant();
        var result = await _shards.Database(_shards.ForName(lower)).ScriptEvaluateAsync(RedisScripts.Direct,
            [RedisKeys.Name(lower)], [NodeChannelPrefix, BusPayload.Direct(dm), _node.Id]);
        if (result.IsNull)
        {
            return here;
        }

        // Published to each holding node: whether its connections queued it is not known here, so each counts one.
        var answer = (RedisResult[])result!;
        return new DirectDelivery(here.Recipient ?? (string)answer[0]!, here.Queued + (int)answer[1], here.Local);
    }

    /// <summary>After Redis was away: makes the shard's record of this node's names match what it holds.</summary>
    public async Task ResyncAsync(int shard)
    {
        var values = new List<RedisValue> { _node.Id, "chathub:" };
        foreach (var (name, holder) in _local.All)
        {
            string lower = name.ToLowerInvariant();
            if (_shards.ForName(lower) == shard)
            {
                values.Add(lower);
                values.Add(HolderValue(name, holder.SharesName));
            }
        }

        var lost = (RedisResult[])(await _shards.Database(shard).ScriptEvaluateAsync(RedisScripts.ResyncNames,
            [RedisKeys.NodeNames(_node.Id)], values.ToArray()))!;
        foreach (var name in lost)
        {
            LogNameLost(_logger, (string)name!);
        }
    }

    private async Task<bool> ClaimInRedisAsync(string name, bool shares)
    {
        string lower = name.ToLowerInvariant();
        var result = await _shards.Database(_shards.ForName(lower)).ScriptEvaluateAsync(RedisScripts.Claim,
            [RedisKeys.Name(lower), RedisKeys.NodeNames(_node.Id)], [_node.Id, HolderValue(name, shares), lower]);
        return (long)result == 1;
    }

    /// <summary>A node's entry in a name's hash: whether its holders share the name, then the name as they hold it.</summary>
    private static string HolderValue(string name, bool shares) => (shares ? "1" : "0") + name;

    private async Task ReleaseInRedisAsync(string name)
    {
        string lower = name.ToLowerInvariant();
        try
        {
            await _shards.Database(_shards.ForName(lower)).ScriptEvaluateAsync(RedisScripts.Release,
                [RedisKeys.Name(lower), RedisKeys.NodeNames(_node.Id)], [_node.Id, lower]);

            // A connection of this node may have claimed the name again while the release was on its way: its claim
            // found the name still this node's and succeeded, and the release then freed it. Claim it back.
            if (_local.FindLocal(name) is [var holder, ..] && !await ClaimInRedisAsync(name, holder.SharesName))
            {
                LogNameTakenBetween(_logger, name);
            }
        }
        catch (Exception e)
        {
            // The resync after Redis returns frees it (this node no longer holds it).
            LogReleaseFailed(_logger, e, name);
        }
    }

    private void Receive(RedisValue value)
    {
        try
        {
            string payload = value!;
            if (payload.StartsWith('d'))
            {
                _local.DeliverLocally(BusPayload.ParseDirect(payload));
            }
        }
        catch (Exception e)
        {
            LogBadPayload(_logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to this node's DM channel on shard {Shard} failed; retrying")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, int shard);

    [LoggerMessage(Level = LogLevel.Debug, Message = "This node's DM channel on shard {Shard} is subscribed (after {Failures} failed attempts)")]
    private static partial void LogSubscribed(ILogger logger, int shard, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unsubscribing the failed subscription of {Channel} from Redis failed; it is unregistered here")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming {Name} in Redis failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing {Name} in Redis failed; the next resync frees it")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Name} was taken by another node while Redis was away; this node's holder keeps it only locally")]
    private static partial void LogNameLost(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Name} was taken by another node between its release here and a new claim here; this node's holder keeps it only locally")]
    private static partial void LogNameTakenBetween(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "An unreadable DM on this node's channel was dropped")]
    private static partial void LogBadPayload(ILogger logger, Exception exception);
}
