using System.Security.Cryptography;
using System.Text;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatHub.Server.Security;

/// <summary>
/// Checks a JWT with Microsoft.IdentityModel: signature (HS256 with the configured secret, RS256/ES256 with the
/// configured public keys; no other algorithm, so a public key can never be used as an HMAC secret), <c>exp</c>
/// (required), <c>nbf</c>, and <c>iss</c>/<c>aud</c> when configured. Its <c>sub</c> must be a valid ChatHub name.
/// </summary>
internal sealed partial class TokenValidator
{
    private readonly JsonWebTokenHandler _handler = new();
    private readonly TokenValidationParameters _parameters;
    private readonly string _roomsClaim;
    private readonly ILogger<TokenValidator> _logger;

    public TokenValidator(IOptions<SecurityOptions> options, ILogger<TokenValidator> logger)
    {
        var token = options.Value.Token;
        _logger = logger;
        _roomsClaim = token.RoomsClaim;
        Enabled = token.Enabled;
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = SigningKeys(token),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = token.ClockSkew,
            ValidateIssuer = token.Issuer is not null,
            ValidIssuer = token.Issuer,
            ValidateAudience = token.Audience is not null,
            ValidAudience = token.Audience,
        };
    }

    /// <summary>True when a signing key or public key is configured: every upgrade then needs a token.</summary>
    public bool Enabled { get; }

    /// <summary>The identity the token proves, or null (with a reason fit for the client: it never repeats the token).</summary>
    public async Task<(UserIdentity? Identity, string? Error)> ValidateAsync(string token)
    {
        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(token, _parameters);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException or FormatException)
        {
            return (null, "the token is malformed");
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            LogRejected(_logger, result.Exception?.GetType().Name ?? "invalid");
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException => "the token has expired",
                SecurityTokenInvalidAudienceException => "the token is for another audience",
                SecurityTokenInvalidIssuerException => "the token is from another issuer",
                SecurityTokenNoExpirationException => "the token has no exp",
                SecurityTokenNotYetValidException => "the token is not valid yet",
                _ => "the token's signature or form is not valid",
            });
        }

        if (!Identifiers.IsValidName(jwt.Subject))
        {
            return (null, $"the token's sub is not a valid name: 1 to {Identifiers.MaxNameLength} characters from A-Z a-z 0-9 _ - .");
        }

        return (new UserIdentity(jwt.Subject, Rooms(jwt), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero)), null);
    }

    /// <summary>The rooms claim as a set; a JSON array arrives as one claim per item, a string may list several.</summary>
    private IReadOnlySet<string>? Rooms(JsonWebToken jwt)
    {
        HashSet<string>? rooms = null;
        foreach (var claim in jwt.Claims)
        {
            if (claim.Type == _roomsClaim)
            {
                rooms ??= new HashSet<string>(StringComparer.Ordinal);
                foreach (string room in claim.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    rooms.Add(room);
                }
            }
        }

        return rooms;
    }

    private static List<SecurityKey> SigningKeys(TokenOptions token)
    {
        var keys = new List<SecurityKey>();
        if (!string.IsNullOrEmpty(token.SigningKey))
        {
            keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(token.SigningKey)));
        }

        foreach (string entry in token.PublicKeys)
        {
            keys.Add(PublicKey(entry.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal) ? entry : File.ReadAllText(entry)));
        }

        return keys;
    }

    /// <summary>An RSA or EC public key from PEM; which one is what the PEM holds.</summary>
    public static SecurityKey PublicKey(string pem)
    {
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "A token was refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);
}
