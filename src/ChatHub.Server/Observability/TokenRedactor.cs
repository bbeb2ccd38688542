using System.Text.RegularExpressions;
using Serilog.Core;
using Serilog.Events;

namespace ChatHub.Server.Observability;

/// <summary>
/// Keeps tokens out of every log line, whoever logs: ASP.NET Core's request lines carry the query string (where a
/// browser must put its token), and any property may hold a header. Each string property is scanned for a
/// <c>token=</c> parameter, a <c>Bearer</c> credential or anything shaped like a JWT, which become <c>[redacted]</c>.
/// </summary>
internal sealed partial class TokenRedactor : ILogEventEnricher
{
    public const string Redacted = "[redacted]";

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? redacted = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && Redact(text) is var clean && !ReferenceEquals(clean, text))
            {
                (redacted ??= []).Add(new LogEventProperty(name, new ScalarValue(clean)));
            }
        }

        foreach (var property in redacted ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }

    /// <summary>The text with every token replaced; the very same string when there was none.</summary>
    public static string Redact(string text)
    {
        if (!Secret().IsMatch(text))
        {
            return text;
        }

        return Secret().Replace(text, m => m.Groups["keep"].Value + Redacted);
    }

    [GeneratedRegex(@"(?<keep>(?:[?&]token=|\bBearer\s+))[^&\s""]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", RegexOptions.IgnoreCase)]
    private static partial Regex Secret();
}
