using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// <c>ChatHub:Security</c>: who may open a WebSocket. Every default is documented in docs/configuration.md and
/// docs/security.md.
/// </summary>
public sealed class SecurityOptions
{
    public const string SectionName = "ChatHub:Security";

    /// <summary>
    /// Origins a browser page may connect from: exact origins (<c>https://chat.example.com</c>) and one-label-or-more
    /// wildcards (<c>https://*.example.com</c>). Empty: the request's own host (its <c>Host</c> header) and
    /// <c>localhost</c> on any port.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    [ValidateObjectMembers] public TokenOptions Token { get; set; } = new();

    [ValidateObjectMembers] public PerIpOptions PerIp { get; set; } = new();

    [ValidateObjectMembers] public ProxyOptions Proxy { get; set; } = new();
}

public sealed class TokenOptions
{
    /// <summary>HS256 secret (its UTF-8 text, at least 32 bytes). Setting it (or <see cref="PublicKeys"/>) turns tokens on.</summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// RS256/ES256 public keys of an identity provider: PEM text (<c>-----BEGIN PUBLIC KEY-----</c>) or the path of a
    /// PEM file. Setting one turns tokens on.
    /// </summary>
    public string[] PublicKeys { get; set; } = [];

    /// <summary>When set, a token's <c>iss</c> must equal it.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, a token's <c>aud</c> must contain it.</summary>
    public string? Audience { get; set; }

    /// <summary>Leeway for clocks that disagree, on <c>exp</c> and <c>nbf</c> at the upgrade and on <c>auth</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long past its token's <c>exp</c> a live connection may go without an <c>auth</c> before it is closed with 4001.</summary>
    public TimeSpan ExpiryGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The claim listing the rooms the user may join (a JSON array or a space- or comma-separated string); absent: every room.</summary>
    [Required] public string RoomsClaim { get; set; } = "rooms";

    public bool Enabled => !string.IsNullOrEmpty(SigningKey) || PublicKeys.Length > 0;
}

public sealed class PerIpOptions
{
    /// <summary>WebSockets open at once from one client address (an IPv6 client: its /64). 0: no cap. More: HTTP 429.</summary>
    [Range(0, int.MaxValue)] public int MaxConnections { get; set; } = 100;

    /// <summary>Upgrade attempts per second from one client address, sustained. 0: no limit. More: HTTP 429 with Retry-After.</summary>
    [Range(0, 1_000_000)] public int HandshakesPerSecond { get; set; } = 10;

    /// <summary>Upgrade attempts one client address may make at once after a quiet spell.</summary>
    [Range(1, 1_000_000)] public int HandshakeBurst { get; set; } = 30;

    /// <summary>
    /// Handshake-rate buckets. Addresses are hashed (with a per-process random key) onto this many token buckets, so
    /// the memory the rate limit holds is bounded however many addresses an attacker has; two addresses share a
    /// bucket with probability 1 in this number.
    /// </summary>
    [Range(1, 1 << 24)] public int AddressBuckets { get; set; } = 16_384;
}

public sealed class ProxyOptions
{
    /// <summary>Addresses of reverse proxies whose <c>X-Forwarded-For</c> is believed. Empty: none, the header is ignored.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) of trusted proxies.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row are walked back through <c>X-Forwarded-For</c>.</summary>
    [Range(1, 16)] public int ForwardLimit { get; set; } = 1;
}
