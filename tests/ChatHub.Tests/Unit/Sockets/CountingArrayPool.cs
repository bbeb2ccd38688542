using System.Buffers;
using System.Runtime.CompilerServices;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// A pool that remembers every array it lent: what is still out, and every return of an array that was not out (a
/// double return, which would let two sockets share one buffer). Every rent is a fresh array, so no two loans alias.
/// </summary>
internal sealed class CountingArrayPool : ArrayPool<byte>
{
    private readonly Lock _lock = new();
    private readonly HashSet<byte[]> _out = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> _misuses = [];
    private int _rented;

    /// <summary>Called after each return (outside the pool's lock), to interleave something with it.</summary>
    public Action<byte[]>? Returned { get; set; }

    public int Rented
    {
        get
        {
            lock (_lock)
            {
                return _rented;
            }
        }
    }

    public int Outstanding
    {
        get
        {
            lock (_lock)
            {
                return _out.Count;
            }
        }
    }

    public IReadOnlyList<string> Misuses
    {
        get
        {
            lock (_lock)
            {
                return [.. _misuses];
            }
        }
    }

    public override byte[] Rent(int minimumLength)
    {
        var array = new byte[minimumLength];
        lock (_lock)
        {
            _out.Add(array);
            _rented++;
        }

        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        lock (_lock)
        {
            if (!_out.Remove(array))
            {
                _misuses.Add($"an array of {array.Length} bytes (#{RuntimeHelpers.GetHashCode(array)}) returned while not lent");
            }
        }

        Returned?.Invoke(array);
    }
}
