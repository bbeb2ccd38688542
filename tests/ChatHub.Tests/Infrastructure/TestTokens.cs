using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatHub.Tests.Infrastructure;

/// <summary>Issues real JWTs with Microsoft.IdentityModel, signed with keys made for the test.</summary>
public sealed class TestTokens : IDisposable
{
    public const string Secret = "a-test-secret-that-is-at-least-32-bytes-long";
    public const string Issuer = "https://id.test";
    public const string Audience = "chathub-test";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string RsaPublicPem => _rsa.ExportSubjectPublicKeyInfoPem();

    public string EcPublicPem => _ec.ExportSubjectPublicKeyInfoPem();

    /// <summary>Server settings (TestServer form) that trust all three keys and check iss and aud.</summary>
    public string[] ServerSettings(params string[] more) =>
    [
        $"Security:Token:SigningKey={Secret}",
        $"Security:Token:PublicKeys:0={RsaPublicPem}",
        $"Security:Token:PublicKeys:1={EcPublicPem}",
        $"Security:Token:Issuer={Issuer}",
        $"Security:Token:Audience={Audience}",
        .. more,
    ];

    public string Hs256(string sub, TimeSpan? lifetime = null, string[]? rooms = null, string issuer = Issuer, string audience = Audience, string secret = Secret) =>
        Create(sub, new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256), lifetime, rooms, issuer, audience);

    public string Rs256(string sub, TimeSpan? lifetime = null) =>
        Create(sub, new SigningCredentials(new RsaSecurityKey(_rsa), SecurityAlgorithms.RsaSha256), lifetime, null, Issuer, Audience);

    public string Es256(string sub, TimeSpan? lifetime = null) =>
        Create(sub, new SigningCredentials(new ECDsaSecurityKey(_ec), SecurityAlgorithms.EcdsaSha256), lifetime, null, Issuer, Audience);

    /// <summary>A token whose exp lies in the past (nbf and iat before it).</summary>
    public string ExpiredHs256(string sub)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", sub)]),
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.AddHours(-2),
            NotBefore = now.AddHours(-2),
            Expires = now.AddHours(-1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    public void Dispose()
    {
        _rsa.Dispose();
        _ec.Dispose();
    }

    private static string Create(string sub, SigningCredentials credentials, TimeSpan? lifetime, string[]? rooms, string issuer, string audience)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = sub };
        if (rooms is not null)
        {
            claims["rooms"] = rooms;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = credentials,
        });
    }
}
