using Serilog;
using Serilog.Events;

namespace ChatHub.Server.Observability;

/// <summary>
/// Reads Serilog's usual <c>Serilog:MinimumLevel</c> section (a level, or <c>Default</c> plus
/// <c>Override:&lt;category&gt;</c>) by hand. Serilog.Settings.Configuration would read it too, but it finds sinks and
/// enrichers by scanning assemblies with reflection, which the trimmed Native AOT binary cannot do; levels are all
/// the server takes from that section.
/// </summary>
internal static class LogLevelSettings
{
    public const string SectionName = "Serilog:MinimumLevel";

    public static LoggerConfiguration ApplyMinimumLevels(this LoggerConfiguration logger, IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        if ((section.Value ?? section["Default"]) is { } level)
        {
            logger.MinimumLevel.Is(Parse(level, section.Value is null ? $"{SectionName}:Default" : SectionName));
        }

        foreach (var category in section.GetSection("Override").GetChildren())
        {
            if (category.Value is { } value)
            {
                logger.MinimumLevel.Override(category.Key, Parse(value, category.Path));
            }
        }

        return logger;
    }

    private static LogEventLevel Parse(string value, string key) =>
        Enum.TryParse<LogEventLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level)
            ? level
            : throw new InvalidOperationException($"{key}: '{value}' is not a Serilog level (Verbose, Debug, Information, Warning, Error, Fatal)");
}
