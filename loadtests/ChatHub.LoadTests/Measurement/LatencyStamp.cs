using System.Globalization;

namespace ChatHub.LoadTests.Measurement;

/// <summary>
/// Puts the (scheduled) send time into a message's text and reads it back on receipt: sender and
/// receivers share one monotonic clock (Stopwatch ticks), so no clock sync is involved.
/// Text: "&lt;ticks&gt; &lt;padding&gt;".
/// </summary>
internal static class LatencyStamp
{
    public static string Text(long timestamp, int totalChars)
    {
        string stamp = timestamp.ToString(CultureInfo.InvariantCulture);
        return totalChars <= stamp.Length + 1 ? stamp : stamp + " " + new string('x', totalChars - stamp.Length - 1);
    }

    public static bool TryRead(string? text, out long timestamp)
    {
        timestamp = 0;
        if (text is null)
        {
            return false;
        }
        int space = text.IndexOf(' ');
        return long.TryParse(space < 0 ? text : text[..space], NumberStyles.None, CultureInfo.InvariantCulture, out timestamp);
    }
}
