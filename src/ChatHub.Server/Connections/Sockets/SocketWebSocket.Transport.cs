using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// The socket calls under the send loop and the receive (all but the idle wait). A send into a socket its peer has
/// reset fails as a <see cref="SocketError"/> result (<see cref="SocketOperation"/>), and this throws a plain
/// <see cref="SocketException"/> for the loop to handle as before: not the one <see cref="Socket"/>'s own
/// <c>SendAsync</c> would throw, which carries a stack trace formatted at its creation and made sends into vanished
/// peers the largest cost of a mass close. A receive reads a reset as the end of the stream, which the receive
/// path answers as it answers a clean end (no exception between frames).
/// </summary>
internal sealed partial class SocketWebSocket
{
    /// <summary>
    /// Taken for one send or receive and given back, so an idle connection holds none (its idle wait is Socket's own
    /// zero-byte receive). Both nearly always complete at once, so a few per core are enough; a miss makes a new one.
    /// </summary>
    private static readonly DefaultObjectPool<SocketOperation> Operations =
        new(new DefaultPooledObjectPolicy<SocketOperation>(), Environment.ProcessorCount * 8);

    /// <summary>Sends once; the bytes sent, which may be fewer than given.</summary>
    private ValueTask<int> SendOnceAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // A cancellable send keeps Socket's own, whose token ends it (nothing on the chat path passes one).
        if (cancellationToken.CanBeCanceled)
        {
            return _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
        }

        var operation = Operations.Get();
        ValueTask<SocketResult> sending;
        try
        {
            sending = operation.SendAsync(_socket, bytes);
        }
        catch
        {
            Operations.Return(operation);
            throw;
        }

        if (sending.IsCompleted)
        {
            // The result is taken before the operation goes back: one that completed on its own may be backed by it.
            SocketResult sent = sending.Result;
            Operations.Return(operation);
            return new ValueTask<int>(BytesSent(sent));
        }

        return AwaitSendAsync(operation, sending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitSendAsync(SocketOperation operation, ValueTask<SocketResult> sending)
    {
        SocketResult result;
        try
        {
            result = await sending.ConfigureAwait(false);
        }
        finally
        {
            Operations.Return(operation);
        }

        return BytesSent(result);
    }

    private static int BytesSent(SocketResult result) =>
        result.Succeeded ? result.BytesTransferred : throw new SocketException((int)result.Error);

    /// <summary>
    /// Receives once into a non-empty <paramref name="buffer"/>; 0 at the end of the stream, which a reset by the
    /// peer is taken for: either way nothing more will come, and the caller tells a clean end between frames from
    /// one inside a frame.
    /// </summary>
    private ValueTask<int> ReceiveOnceAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // A cancellable receive keeps Socket's own, whose token ends it (nothing on the chat path passes one).
        if (cancellationToken.CanBeCanceled)
        {
            return _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }

        var operation = Operations.Get();
        ValueTask<SocketResult> receiving;
        try
        {
            receiving = operation.ReceiveAsync(_socket, buffer);
        }
        catch
        {
            Operations.Return(operation);
            throw;
        }

        if (receiving.IsCompleted)
        {
            // The result is taken before the operation goes back: one that completed on its own may be backed by it.
            SocketResult received = receiving.Result;
            Operations.Return(operation);
            return new ValueTask<int>(BytesReceived(received));
        }

        return AwaitReceiveAsync(operation, receiving);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitReceiveAsync(SocketOperation operation, ValueTask<SocketResult> receiving)
    {
        SocketResult result;
        try
        {
            result = await receiving.ConfigureAwait(false);
        }
        finally
        {
            Operations.Return(operation);
        }

        return BytesReceived(result);
    }

    private static int BytesReceived(SocketResult result) => result switch
    {
        { Succeeded: true } => result.BytesTransferred,
        { Error: SocketError.ConnectionReset } => 0,
        _ => throw new SocketException((int)result.Error),
    };
}
