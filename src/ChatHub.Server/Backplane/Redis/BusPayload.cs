using System.Globalization;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane.Redis;

/// <summary>
/// What travels on the cluster's pub/sub channels: newline-separated fields, the free text last (names and
/// rooms cannot hold a newline). The scripts write them; this reads them.
/// <list type="bullet">
/// <item><c>m</c>seq, ts (Unix ms), from, text — a stored message</item>
/// <item><c>p</c>event, name, to, node, connection, members — a presence change</item>
/// <item><c>d</c>from, ts, to (lower case), text — a DM for a connection of the receiving node</item>
/// </list>
/// </summary>
internal static class BusPayload
{
    public static ChatMessage ParseMessage(string room, string payload)
    {
        var fields = payload.AsSpan(1);
        long seq = long.Parse(Next(ref fields), CultureInfo.InvariantCulture);
        long ms = long.Parse(Next(ref fields), CultureInfo.InvariantCulture);
        string from = Next(ref fields).ToString();
        return new ChatMessage(room, seq, from, fields.ToString(), DateTimeOffset.FromUnixTimeMilliseconds(ms), null);
    }

    public static PresenceChange ParsePresence(string payload)
    {
        var fields = payload.AsSpan(1);
        string kind = Next(ref fields).ToString();
        string name = Next(ref fields).ToString();
        var to = Next(ref fields);
        string node = Next(ref fields).ToString();
        long connection = long.Parse(Next(ref fields), CultureInfo.InvariantCulture);
        int members = int.Parse(fields, CultureInfo.InvariantCulture);
        return new PresenceChange(kind, name, to.IsEmpty ? null : to.ToString(), node, connection, members);
    }

    public static string Direct(DmEvent dm) =>
        $"d{dm.From}\n{dm.Timestamp.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}\n{dm.To.ToLowerInvariant()}\n{dm.Text}";

    public static DmEvent ParseDirect(string payload)
    {
        var fields = payload.AsSpan(1);
        string from = Next(ref fields).ToString();
        long ms = long.Parse(Next(ref fields), CultureInfo.InvariantCulture);
        string to = Next(ref fields).ToString();
        return new DmEvent(from, to, fields.ToString(), DateTimeOffset.FromUnixTimeMilliseconds(ms));
    }

    private static ReadOnlySpan<char> Next(ref ReadOnlySpan<char> rest)
    {
        int end = rest.IndexOf('\n');
        var field = rest[..end];
        rest = rest[(end + 1)..];
        return field;
    }
}
