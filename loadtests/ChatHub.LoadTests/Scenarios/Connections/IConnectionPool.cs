namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>Holds idle connections open; in this process or spread over worker processes.</summary>
internal interface IConnectionPool : IAsyncDisposable
{
    /// <summary>Opens <paramref name="count"/> more connections, numbered after the ones already opened.</summary>
    Task<BatchResult> AddAsync(int count, CancellationToken ct);
}
