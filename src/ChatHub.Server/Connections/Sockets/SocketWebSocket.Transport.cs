using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// The socket sends under the send loop. A send into a socket its peer has reset fails as a <see cref="SocketError"/>
/// result (<see cref="SocketOperation"/>), and this throws a plain <see cref="SocketException"/> for the loop to handle
/// as before: not the one <see cref="Socket"/>'s own <c>SendAsync</c> would throw, which carries a stack trace
/// formatted at its creation and made sends into vanished peers the largest cost of a mass close.
/// </summary>
internal sealed partial class SocketWebSocket
{
    /// <summary>
    /// Taken for one send and given back, so an idle connection holds none. Sends nearly always complete at once,
    /// so a few per core are enough; a miss makes a new one.
    /// </summary>
    private static readonly DefaultObjectPool<SocketOperation> SendOperations =
        new(new DefaultPooledObjectPolicy<SocketOperation>(), Environment.ProcessorCount * 8);

    /// <summary>Sends once; the bytes sent, which may be fewer than given.</summary>
    private ValueTask<int> SendOnceAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // A cancellable send keeps Socket's own, whose token ends it (nothing on the chat path passes one).
        if (cancellationToken.CanBeCanceled)
        {
            return _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
        }

        var operation = SendOperations.Get();
        ValueTask<SocketResult> sending;
        try
        {
            sending = operation.SendAsync(_socket, bytes);
        }
        catch
        {
            SendOperations.Return(operation);
            throw;
        }

        if (sending.IsCompleted)
        {
            SendOperations.Return(operation);
            return new ValueTask<int>(BytesSent(sending.Result));
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
            SendOperations.Return(operation);
        }

        return BytesSent(result);
    }

    private static int BytesSent(SocketResult result) =>
        result.Succeeded ? result.BytesTransferred : throw new SocketException((int)result.Error);
}
