using ChatHub.Server.Protocol;
using ChatHub.Server.Security;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatHub.Server.Connections;

/// <summary>What the upgrade request asks for: format (query wins over subprotocol), name and rooms; and, once admitted, who it is.</summary>
internal sealed record ConnectRequest(WireFormat Format, string? Subprotocol, string? Name, IReadOnlyList<string> Rooms)
{
    public const string JsonSubprotocol = "chathub.json";

    /// <summary>Who the upgrade's token says the user is; null when tokens are off.</summary>
    public UserIdentity? Identity { get; init; }

    /// <summary>The client address's place in its per-address connection cap; released when the connection ends.</summary>
    public IDisposable? AddressSlot { get; init; }

    public const string TextSubprotocol = "chathub.text";

    /// <summary>
    /// <c>presence=batch</c>: the client takes a room's presence changes as one <c>presence_batch</c> frame per tick
    /// instead of one <c>presence</c> event each (docs/protocol.md, "Presence batches").
    /// </summary>
    public bool PresenceBatches { get; init; }

    /// <summary>Null with an error message when the query names a format that does not exist.</summary>
    public static ConnectRequest? Parse(string queryString, IReadOnlyList<string> offered, out string? error)
    {
        error = null;
        var query = QueryHelpers.ParseQuery(queryString);
        string? queryFormat = query.TryGetValue("format", out var formats) ? formats.LastOrDefault() : null;
        WireFormat format;
        if (queryFormat is not null)
        {
            switch (queryFormat.ToLowerInvariant())
            {
                case "json": format = WireFormat.Json; break;
                case "text": format = WireFormat.Text; break;
                default:
                    error = "format must be json or text";
                    return null;
            }
        }
        else
        {
            string? first = offered.FirstOrDefault(p => p is JsonSubprotocol or TextSubprotocol);
            format = first == JsonSubprotocol ? WireFormat.Json : WireFormat.Text;
        }

        // Echo a subprotocol only if the client offered the one matching the format in force;
        // a browser fails the handshake if the server picks one it did not offer.
        string matching = format == WireFormat.Json ? JsonSubprotocol : TextSubprotocol;
        string? subprotocol = offered.Contains(matching) ? matching : null;

        bool presenceBatches = false;
        if (query.TryGetValue("presence", out var presence))
        {
            switch (presence.LastOrDefault()?.ToLowerInvariant())
            {
                case "batch": presenceBatches = true; break;
                case "event": break;
                default:
                    error = "presence must be event or batch";
                    return null;
            }
        }

        string? name = query.TryGetValue("name", out var names) ? names.LastOrDefault() : null;
        var rooms = (query.TryGetValue("room", out var roomValues) ? roomValues : default).Where(r => !string.IsNullOrEmpty(r)).Select(r => r!).Distinct(StringComparer.Ordinal).ToList();
        return new ConnectRequest(format, subprotocol, string.IsNullOrEmpty(name) ? null : name, rooms) { PresenceBatches = presenceBatches };
    }
}
