namespace ChatHub.LoadTests.Net;

/// <summary>One client of a chat server, whatever its protocol: it says things; what it receives goes to its sink.</summary>
internal interface IChatConnection : IAsyncDisposable
{
    ValueTask SayAsync(string room, string text, CancellationToken ct);
}
