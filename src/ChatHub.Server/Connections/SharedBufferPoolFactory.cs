using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace ChatHub.Server.Connections;

/// <summary>
/// Gives Kestrel's socket transport <see cref="MemoryPool{T}.Shared"/> (over <see cref="ArrayPool{T}.Shared"/>)
/// instead of its pinned block pool (<c>ChatHub:Connections:BufferPool=Shared</c>). Kestrel's pool keeps every
/// block it ever rented, so a burst of presence lines to thousands of members leaves megabytes of pinned blocks
/// behind for good; the shared array pool keeps a few arrays per core and hands the rest back to the garbage
/// collector, and since the socket pins a buffer only for the length of one send or receive call, nothing stops the
/// collector from compacting the heap afterwards. Measured in docs/performance.md.
/// </summary>
internal sealed class SharedBufferPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => MemoryPool<byte>.Shared;
}
