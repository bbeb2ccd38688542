using System.Net;
using ChatHub.LoadTests.Net;

namespace ChatHub.LoadTests.Scenarios.Common;

/// <summary>Opens a set of members with bounded concurrency and waits until each has joined its room.</summary>
internal static class MemberConnector
{
    public static async Task<LoadConnection[]> ConnectAsync(
        WebSocketConnector connector,
        IReadOnlyList<(Uri Uri, MemberSink Sink)> members,
        int concurrency,
        TimeSpan timeout,
        CancellationToken ct,
        IPAddress? source = null)
    {
        var connections = new LoadConnection[members.Count];
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, members.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = ct },
                async (i, token) =>
                {
                    LoadConnection connection = await LoadConnection.OpenAsync(connector, members[i].Uri, source, timeout, 4096, token).ConfigureAwait(false);
                    connections[i] = connection;
                    connection.StartReceiving(members[i].Sink);
                }).ConfigureAwait(false);
            await Task.WhenAll(members.Select(m => m.Sink.Joined.Task)).WaitAsync(timeout, ct).ConfigureAwait(false);
            return connections;
        }
        catch
        {
            await CloseAllAsync(connections, members.Select(m => m.Sink)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Opens one client of <paramref name="connector"/>'s kind per sink, each in its sink's room; member i goes to
    /// server i modulo the number of servers (several nodes of one cluster).
    /// </summary>
    public static async Task<IChatConnection[]> ConnectAsync(
        IChatConnector connector,
        IReadOnlyList<Uri> baseUrls,
        IReadOnlyList<MemberSink> members,
        int concurrency,
        TimeSpan timeout,
        CancellationToken ct)
    {
        var connections = new IChatConnection[members.Count];
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, members.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = ct },
                async (i, token) =>
                {
                    connections[i] = await connector.OpenAsync(baseUrls[i % baseUrls.Count], [members[i].Room], null, timeout, members[i], 4096, token).ConfigureAwait(false);
                }).ConfigureAwait(false);
            await Task.WhenAll(members.Select(m => m.Joined.Task)).WaitAsync(timeout, ct).ConfigureAwait(false);
            return connections;
        }
        catch
        {
            await CloseAllAsync(connections, members).ConfigureAwait(false);
            throw;
        }
    }

    public static async Task CloseAllAsync(IEnumerable<IAsyncDisposable?> connections, IEnumerable<MemberSink> sinks)
    {
        foreach (MemberSink sink in sinks)
        {
            sink.ExpectClose = true;
        }
        foreach (IAsyncDisposable? connection in connections)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
