using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// Per client address: a handshake rate (token buckets from System.Threading.RateLimiting) and a cap on open
/// WebSockets. IPv6 clients are counted by their /64, which one subscriber usually holds whole.
///
/// Memory is bounded whatever the number of addresses: the rate buckets are a <see cref="PartitionedRateLimiter"/>
/// keyed by a randomly seeded hash of the address onto <see cref="PerIpOptions.AddressBuckets"/> partitions (idle, full ones
/// are dropped by the limiter itself), and the open-connection counts hold one entry per address that has a
/// connection open, so never more entries than connections.
/// </summary>
internal sealed class PerIpLimiter : IDisposable
{
    private readonly PerIpOptions _options;
    private readonly PartitionedRateLimiter<IPAddress>? _rate;
    private readonly ConcurrentDictionary<UInt128, int> _open = new();

    public PerIpLimiter(IOptions<SecurityOptions> options)
    {
        _options = options.Value.PerIp;
        if (_options.HandshakesPerSecond > 0)
        {
            var bucket = new TokenBucketRateLimiterOptions
            {
                TokenLimit = _options.HandshakeBurst,
                TokensPerPeriod = _options.HandshakesPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                AutoReplenishment = true,
                QueueLimit = 0,
            };
            _rate = PartitionedRateLimiter.Create<IPAddress, int>(address => RateLimitPartition.GetTokenBucketLimiter(Bucket(address), _ => bucket));
        }
    }

    /// <summary>False when this address is over its handshake rate.</summary>
    public bool TryStartHandshake(IPAddress? address)
    {
        if (_rate is null || address is null)
        {
            return true;
        }

        using var lease = _rate.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    /// <summary>A slot among the address's open connections, or null when it already holds the maximum. Dispose it when the connection ends.</summary>
    public IDisposable? TryOpen(IPAddress? address)
    {
        if (_options.MaxConnections == 0 || address is null)
        {
            return Slot.None;
        }

        var key = Key(address);
        while (true)
        {
            if (_open.TryGetValue(key, out int count))
            {
                if (count >= _options.MaxConnections)
                {
                    return null;
                }

                if (_open.TryUpdate(key, count + 1, count))
                {
                    return new Slot(this, key);
                }
            }
            else if (_open.TryAdd(key, 1))
            {
                return new Slot(this, key);
            }
        }
    }

    /// <summary>Open connections of one address (for tests and diagnostics).</summary>
    public int OpenFrom(IPAddress address) => _open.TryGetValue(Key(address), out int count) ? count : 0;

    public void Dispose() => _rate?.Dispose();

    private void Release(UInt128 key)
    {
        while (true)
        {
            int count = _open[key];
            if (count == 1 ? _open.TryRemove(new KeyValuePair<UInt128, int>(key, 1)) : _open.TryUpdate(key, count - 1, count))
            {
                return;
            }
        }
    }

    private int Bucket(IPAddress address)
    {
        // HashCode is seeded randomly per process, so nobody outside can aim addresses at one bucket.
        UInt128 key = Key(address);
        uint hash = (uint)HashCode.Combine((ulong)(key >> 64), (ulong)key);
        return (int)(hash % (uint)_options.AddressBuckets);
    }

    /// <summary>An IPv4 address whole (also when mapped into IPv6); an IPv6 address by its /64.</summary>
    private static UInt128 Key(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            bytes[8..].Clear();
            return BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        return BinaryPrimitives.ReadUInt32BigEndian(bytes[..written]);
    }

    /// <summary>One open connection's place in its address's count; disposing twice releases once.</summary>
    private sealed class Slot(PerIpLimiter? owner, UInt128 key) : IDisposable
    {
        public static readonly IDisposable None = new Slot(null, 0);

        private int _released;

        public void Dispose()
        {
            if (owner is not null && Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(key);
            }
        }
    }
}
