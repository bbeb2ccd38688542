using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatHub.Server.Security;

/// <summary>
/// <c>ChatHub.Server token --sub ann [--rooms lobby,dev] [--ttl 01:00:00]</c>: prints an HS256 token signed with
/// the configured <c>ChatHub:Security:Token:SigningKey</c> (appsettings.json, environment or <c>--ChatHub:...</c>
/// arguments, as for the server), with the configured issuer and audience. For trying tokens out and for small
/// set-ups; an identity provider issues RS256/ES256 tokens itself.
/// </summary>
internal static class TokenCommand
{
    public const string Usage = "usage: ChatHub.Server token --sub NAME [--rooms ROOM,ROOM...] [--ttl HH:MM:SS] [--ChatHub:Security:Token:SigningKey=SECRET ...]";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? sub = null, rooms = null;
        var ttl = TimeSpan.FromHours(1);
        var configurationArgs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--sub" when value is not null: sub = value; i++; break;
                case "--rooms" when value is not null: rooms = value; i++; break;
                case "--ttl" when value is not null && TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out ttl) && ttl > TimeSpan.Zero: i++; break;
                case var other when other.StartsWith("--", StringComparison.Ordinal) && other.Contains(':'): configurationArgs.Add(other); break;
                default:
                    error.WriteLine($"unexpected argument {args[i]}\n{Usage}");
                    return 2;
            }
        }

        if (!Protocol.Identifiers.IsValidName(sub))
        {
            error.WriteLine($"--sub must be a valid name (1 to {Protocol.Identifiers.MaxNameLength} characters from A-Z a-z 0-9 _ - .)\n{Usage}");
            return 2;
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(configurationArgs.ToArray())
            .Build();
        var token = configuration.GetSection(SecurityOptions.SectionName).Get<SecurityOptions>()?.Token ?? new TokenOptions();
        if (string.IsNullOrEmpty(token.SigningKey) || Encoding.UTF8.GetByteCount(token.SigningKey) < SecurityServices.MinSigningKeyBytes)
        {
            error.WriteLine($"ChatHub:Security:Token:SigningKey must be configured, at least {SecurityServices.MinSigningKeyBytes} bytes");
            return 2;
        }

        var claims = new Dictionary<string, object> { ["sub"] = sub! };
        if (rooms is not null)
        {
            claims[token.RoomsClaim] = rooms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var now = DateTime.UtcNow;
        output.WriteLine(new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Issuer = token.Issuer,
            Audience = token.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + ttl,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(token.SigningKey)), SecurityAlgorithms.HmacSha256),
        }));
        return 0;
    }
}
