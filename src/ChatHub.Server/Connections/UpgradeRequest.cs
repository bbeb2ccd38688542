using Microsoft.Extensions.Primitives;

namespace ChatHub.Server.Connections;

/// <summary>
/// The parts of a WebSocket upgrade request the handshake looks at, whichever layer read it: Kestrel's HTTP
/// pipeline (<see cref="FromHttp"/>) or the handshake on the listening socket (<see cref="Listening.SocketHandshake"/>).
/// Nothing of it is kept once the connection runs.
/// </summary>
internal sealed class UpgradeRequest
{
    public required string Method { get; init; }
    public required string QueryString { get; init; }
    public string? Connection { get; init; }
    public string? Upgrade { get; init; }
    public string? Version { get; init; }
    public string? Key { get; init; }
    public string? Origin { get; init; }
    public string? Host { get; init; }
    public string? Authorization { get; init; }

    /// <summary>
    /// <c>X-Forwarded-For</c>, read on the transport path only: on the HTTP path the forwarded-headers middleware has
    /// already applied it (when the peer is a trusted proxy) to the connection's remote address.
    /// </summary>
    public string? ForwardedFor { get; init; }
    public IReadOnlyList<string> Subprotocols { get; init; } = [];

    public static UpgradeRequest FromHttp(HttpRequest request) => new()
    {
        Method = request.Method,
        QueryString = request.QueryString.Value ?? "",
        Connection = Join(request.Headers.Connection),
        Upgrade = Join(request.Headers.Upgrade),
        Version = Join(request.Headers.SecWebSocketVersion),
        Key = Join(request.Headers.SecWebSocketKey),
        Origin = Join(request.Headers.Origin),
        Host = Join(request.Headers.Host),
        Authorization = Join(request.Headers.Authorization),
        Subprotocols = SplitList(Join(request.Headers.SecWebSocketProtocol)),
    };

    public static IReadOnlyList<string> SplitList(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Join(StringValues values) => values.Count == 0 ? null : values.ToString();
}
