using System.Globalization;

namespace ChatHub.Server.Protocol;

/// <summary>Timestamps on the wire: ISO-8601 UTC with milliseconds, e.g. <c>2026-11-24T10:00:00.123Z</c>.</summary>
public static class Timestamps
{
    public const string WireFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString(WireFormat, CultureInfo.InvariantCulture);

    /// <summary>Stored as Unix milliseconds so that the wire's millisecond precision survives a restart exactly.</summary>
    public static DateTimeOffset FromUnixMilliseconds(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset NowTruncated(TimeProvider clock) =>
        DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
}
