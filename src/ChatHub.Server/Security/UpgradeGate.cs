using System.Net;
using ChatHub.Server.Connections;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatHub.Server.Security;

/// <summary>
/// Who may open a WebSocket, decided once for both accept paths (transport and HTTP) before any WebSocket exists:
/// the handshake rate of the client's address (429), the <c>Origin</c> (403), the token when tokens are on (401),
/// and the address's open-connection cap (429). The cheap checks come first so a flood costs no signature checks.
/// </summary>
internal sealed partial class UpgradeGate(
    OriginPolicy origins,
    TokenValidator tokens,
    PerIpLimiter perIp,
    ClientAddress addresses,
    ILogger<UpgradeGate> logger)
{
    /// <summary>
    /// The request admitted (with the token's identity and the address's connection slot, which the connection
    /// releases when it ends), or the refusal to answer with.
    /// </summary>
    /// <param name="peer">The socket's peer; on the HTTP path already resolved by the forwarded-headers middleware.</param>
    public async Task<(ConnectRequest? Connect, HandshakeRefusal? Refusal)> AdmitAsync(UpgradeRequest request, ConnectRequest connect, IPAddress? peer)
    {
        var address = addresses.Resolve(peer, request.ForwardedFor);
        if (!perIp.TryStartHandshake(address))
        {
            return Refuse(address, new HandshakeRefusal(StatusCodes.Status429TooManyRequests, "too many connection attempts from your address; try again in a few seconds", "rate"));
        }

        if (!origins.IsAllowed(request.Origin, request.Host))
        {
            return Refuse(address, new HandshakeRefusal(StatusCodes.Status403Forbidden, "this origin may not connect", "origin"));
        }

        UserIdentity? identity = null;
        if (tokens.Enabled)
        {
            if (TokenOf(request) is not { } token)
            {
                return Refuse(address, new HandshakeRefusal(StatusCodes.Status401Unauthorized, "a token is required (token= or Authorization: Bearer)", "token"));
            }

            (identity, string? error) = await tokens.ValidateAsync(token);
            if (identity is null)
            {
                return Refuse(address, new HandshakeRefusal(StatusCodes.Status401Unauthorized, error!, "token"));
            }
        }

        if (perIp.TryOpen(address) is not { } slot)
        {
            return Refuse(address, new HandshakeRefusal(StatusCodes.Status429TooManyRequests, "too many open connections from your address", "per_ip_cap"));
        }

        return (connect with { Identity = identity, AddressSlot = slot }, null);
    }

    /// <summary><c>Authorization: Bearer</c> wins over <c>token=</c> (a header stays out of access logs).</summary>
    private static string? TokenOf(UpgradeRequest request)
    {
        const string bearer = "Bearer ";
        if (request.Authorization is { } authorization && authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return authorization[bearer.Length..].Trim() is { Length: > 0 } value ? value : null;
        }

        var query = QueryHelpers.ParseQuery(request.QueryString);
        return query.TryGetValue("token", out var values) && values.LastOrDefault() is { Length: > 0 } token ? token : null;
    }

    // Counted in chathub_handshake_refusals_total{reason} by the accept path that writes the refusal.
    private (ConnectRequest?, HandshakeRefusal?) Refuse(IPAddress? address, HandshakeRefusal refusal)
    {
        LogRefused(logger, refusal.Status, refusal.Reason, address);
        return (null, refusal);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upgrade refused with {Status} ({Reason}) for {Address}")]
    private static partial void LogRefused(ILogger logger, int status, string reason, IPAddress? address);
}
