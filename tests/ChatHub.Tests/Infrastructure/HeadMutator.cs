using System.Text;

namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// Request heads made by mutating a valid WebSocket upgrade: one to three edits of the kinds parsers get wrong
/// (line ends, whitespace, duplicates, versions, hosts, bodies, sizes, stray bytes), some of which leave it valid.
/// </summary>
public static class HeadMutator
{
    private static readonly string[] Versions = ["HTTP/1.1", "HTTP/1.0", "HTTP/1.7", "HTTP/2.0", "http/1.1", "HTTP/1.1 ", "HTTP/1", "HTTP/1.10", "HTTPS/1.1"];
    private static readonly string[] Hosts = ["x", "x:80", "x:99999", "x:", "[::1]", "[::1]:8080", "a_b", "a..b", "-", "", "a b", "x:abc", "é", "[x]", "1.2.3.4:5", "a@b", "x/y"];
    private static readonly byte[] Interesting = [0, (byte)'\r', (byte)'\n', (byte)'\t', 1, 0x7F, 0xE9, 0xFF, (byte)' ', (byte)':', (byte)'"', (byte)'#', (byte)'%', (byte)'?', (byte)'/'];
    private static readonly string[] Names = ["Host", "Connection", "Upgrade", "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol", "Origin", "Authorization", "X-Other"];

    public static byte[] Mutate(Random random)
    {
        var requestLine = new StringBuilder("GET /ws?format=json&name=m HTTP/1.1");
        var headers = new List<string>
        {
            "Host: x", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        };
        string body = "";
        string lineEnd = "\r\n";
        int edits = random.Next(0, 4);
        var stray = new List<(int, byte, bool)>();
        for (int e = 0; e < edits; e++)
        {
            switch (random.Next(14))
            {
                case 0: headers.Insert(random.Next(headers.Count + 1), headers[random.Next(headers.Count)]); break;
                case 1:
                    {
                        int i = random.Next(headers.Count);
                        int colon = headers[i].IndexOf(':');
                        if (colon > 0)
                        {
                            headers[i] = headers[i][..colon] + (random.Next(2) == 0 ? " " : "\t") + headers[i][colon..];
                        }

                        break;
                    }

                case 2: headers.Insert(random.Next(1, headers.Count + 1), (random.Next(2) == 0 ? " " : "\t") + "folded"); break;
                case 3: requestLine.Replace("HTTP/1.1", Versions[random.Next(Versions.Length)]); break;
                case 4:
                    headers.RemoveAll(h => h.StartsWith("Host:", StringComparison.Ordinal));
                    if (random.Next(4) != 0)
                    {
                        headers.Insert(random.Next(headers.Count + 1), "Host: " + Hosts[random.Next(Hosts.Length)]);
                    }

                    break;
                case 5:
                    if (random.Next(2) == 0)
                    {
                        int length = random.Next(0, 4);
                        headers.Add($"Content-Length: {length}");
                        body = new string('b', length);
                    }
                    else
                    {
                        headers.Add("Transfer-Encoding: chunked");
                        body = "0\r\n\r\n";
                    }

                    break;
                case 6: headers.Add("X-Big: " + new string('a', random.Next(100, 40_000))); break;
                case 7:
                    int count = random.Next(50, 120);
                    for (int i = 0; i < count; i++)
                    {
                        headers.Add($"X-H{i}: v");
                    }

                    break;
                case 8: requestLine.Replace("name=m", "name=m&pad=" + new string('p', random.Next(7000, 9000))); break;
                case 9: lineEnd = "\n"; break;
                case 10: headers.RemoveAt(random.Next(headers.Count)); break;
                case 11: headers.Add($"{Names[random.Next(Names.Length)]}: {(random.Next(2) == 0 ? "13" : "websocket, Upgrade")}"); break;
                case 12: stray.Add((random.Next(1 << 20), Interesting[random.Next(Interesting.Length)], true)); break;
                default: stray.Add((random.Next(1 << 20), 0, false)); break;
            }
        }

        var head = new List<byte>(Encoding.Latin1.GetBytes(requestLine + lineEnd + string.Concat(headers.Select(h => h + lineEnd)) + lineEnd));
        foreach (var (at, value, insert) in stray)
        {
            int position = at % head.Count;
            if (insert)
            {
                head.Insert(position, value);
            }
            else
            {
                head.RemoveAt(position);
            }
        }

        return [.. head, .. Encoding.Latin1.GetBytes(body)];
    }
}
