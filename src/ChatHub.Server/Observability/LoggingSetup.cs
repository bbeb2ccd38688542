using Serilog;
using Serilog.Formatting.Compact;

namespace ChatHub.Server.Observability;

/// <summary>
/// Serilog as the only logging provider: console lines for people, or compact JSON (one event per line) for
/// log shippers with <c>ChatHub:Logging:Format=json</c>. Levels come from the usual <c>Serilog</c> section.
/// </summary>
internal static class LoggingSetup
{
    public static void UseChatHubLogging(this WebApplicationBuilder builder)
    {
        bool json = string.Equals(builder.Configuration["ChatHub:Logging:Format"], "json", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ApplyMinimumLevels(builder.Configuration).Enrich.FromLogContext().Enrich.With<TokenRedactor>();
            if (json)
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
            }
        });
    }
}
