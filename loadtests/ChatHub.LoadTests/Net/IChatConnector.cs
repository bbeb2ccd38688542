using System.Net;

namespace ChatHub.LoadTests.Net;

/// <summary>Opens clients of one kind of server (<see cref="Probes.TargetKind"/>).</summary>
internal interface IChatConnector : IDisposable
{
    /// <summary>
    /// Connects, joins <paramref name="rooms"/> and starts feeding <paramref name="sink"/>; the sink sees
    /// <c>welcome</c> and one <c>joined</c> per room before the task completes or soon after.
    /// </summary>
    /// <param name="initialBufferBytes">First receive buffer where the client has one (grows for bigger frames).</param>
    Task<IChatConnection> OpenAsync(
        Uri baseUrl, IReadOnlyList<string> rooms, IPAddress? source, TimeSpan timeout, IFrameSink sink, int initialBufferBytes, CancellationToken ct);
}
