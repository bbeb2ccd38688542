using System.Text;

namespace ChatHub.LoadTests.Protocol;

/// <summary>Builds the endpoint addresses from a server's base URL (http://host:port/).</summary>
internal static class ChatHubUris
{
    /// <summary>
    /// <c>ws://host:port/ws?format=json&amp;presence=batch&amp;room=...</c>: joining at connect time makes the whole
    /// session one handshake, which is what keeps a 20k-connection ramp cheap. Presence comes in batches, one frame
    /// per room and tick rather than one per joiner, as a client of a busy server would ask; servers without the
    /// extension (and the Node peer) ignore the parameter and send single events, which the tool reads just as well.
    /// </summary>
    public static Uri WebSocket(Uri baseUrl, string? name, IEnumerable<string> rooms)
    {
        var query = new StringBuilder("format=json&presence=batch");
        if (name is not null)
        {
            query.Append("&name=").Append(Uri.EscapeDataString(name));
        }
        foreach (string room in rooms)
        {
            query.Append("&room=").Append(Uri.EscapeDataString(room));
        }
        var builder = new UriBuilder(baseUrl)
        {
            Scheme = baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = "/ws",
            Query = query.ToString(),
        };
        return builder.Uri;
    }

    /// <summary>The SignalR peer's hub; the client turns http into ws itself.</summary>
    public static Uri Hub(Uri baseUrl) => new(baseUrl, "/hub");

    public static Uri Stats(Uri baseUrl) => new(baseUrl, "/api/stats");

    public static Uri Metrics(Uri baseUrl) => new(baseUrl, "/metrics");
}
