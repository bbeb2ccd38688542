using System.Buffers;
using System.Text;

namespace ChatHub.Server.Protocol;

/// <summary>
/// Makes a line safe to show on a terminal. <c>text</c> may hold any Unicode (the JSON format carries it as it
/// is), but the text format is read by people at terminals, where a line feed would start a line the server never
/// wrote (a JSON client could forge <c>[dm] …</c> lines) and escape sequences move the cursor, recolour or retitle
/// the window. So every character a terminal acts on instead of printing is shown as a visible stand-in:
/// C0 controls and DEL as their Unicode control pictures (a line feed is ␊, ESC is ␛), C1 controls, the line and
/// paragraph separators and the bidirectional overrides (which reorder what follows them) as <c>\uXXXX</c>.
/// </summary>
public static class TerminalText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F" +
        "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F" +
        "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
        "\u061C\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>The line itself when nothing in it needs escaping (the common case: no copy).</summary>
    public static string Escape(string line)
    {
        int first = line.AsSpan().IndexOfAny(Unsafe);
        if (first < 0)
        {
            return line;
        }

        var escaped = new StringBuilder(line.Length + 16).Append(line, 0, first);
        foreach (char c in line.AsSpan(first))
        {
            if (!Unsafe.Contains(c))
            {
                escaped.Append(c);
            }
            else if (c < 0x20)
            {
                escaped.Append((char)(0x2400 + c)); // U+2400 CONTROL PICTURES: ␀ … ␟
            }
            else if (c == 0x7F)
            {
                escaped.Append('\u2421'); // ␡
            }
            else
            {
                escaped.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }
}
