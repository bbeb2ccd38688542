using System.Text;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>Registers the upgrade gate and what it needs, with <c>ChatHub:Security</c> validated at start.</summary>
internal static class SecurityServices
{
    public const int MinSigningKeyBytes = 32;

    public static IServiceCollection AddChatHubSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecurityOptions>()
            .Bind(configuration.GetSection(SecurityOptions.SectionName))
            .Validate(o => string.IsNullOrEmpty(o.Token.SigningKey) || Encoding.UTF8.GetByteCount(o.Token.SigningKey) >= MinSigningKeyBytes,
                $"ChatHub:Security:Token:SigningKey must be at least {MinSigningKeyBytes} bytes of UTF-8")
            .Validate(o => o.Token.ClockSkew >= TimeSpan.Zero && o.Token.ExpiryGrace >= TimeSpan.Zero,
                "ChatHub:Security:Token:ClockSkew and ExpiryGrace must not be negative")
            .Validate(o => o.PerIp.HandshakesPerSecond == 0 || o.PerIp.HandshakeBurst >= 1,
                "ChatHub:Security:PerIp:HandshakeBurst must be 1 or more")
            .Validate(o => OriginPolicy.AreValid(o.AllowedOrigins),
                "ChatHub:Security:AllowedOrigins: every entry must be scheme://host[:port] or scheme://*.domain[:port]")
            .Validate(o => o.Proxy.KnownProxies.All(p => System.Net.IPAddress.TryParse(p, out _))
                    && o.Proxy.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "ChatHub:Security:Proxy: KnownProxies must be IP addresses and KnownNetworks CIDR networks")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<SecurityOptions>>((forwarded, security) => ClientAddress.Configure(forwarded, security.Value.Proxy));

        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<TokenValidator>();
        services.AddSingleton<PerIpLimiter>();
        services.AddSingleton<ClientAddress>();
        services.AddSingleton<SecurityMetrics>();
        services.AddSingleton<UpgradeGate>();
        services.AddHostedService<TokenExpiryWatcher>();
        return services;
    }
}
