using System.Text;
using System.Text.Json;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Fuzz;

/// <summary>
/// Generates what fuzzing clients send: well-formed and broken JSON requests, mutated JSON, text-format lines,
/// fragmented messages with control frames between the fragments, and now and then a frame that must end the
/// connection (binary, invalid UTF-8, too large, protocol violations). Everything from one seeded
/// <see cref="Random"/>, so a run is reproduced from its seed.
/// </summary>
public sealed class FuzzFrames(Random random, int maxFrameBytes)
{
    private static readonly string[] Types = ["nick", "join", "leave", "say", "dm", "who", "rooms", "history", "ping", "help", "quit", "shout", "", "JOIN"];
    private static readonly string[] Rooms = ["lobby", "a", "b", "fuzz-1", "fuzz.2", "x_y"];
    private static readonly string[] Commands = ["/nick", "/join", "/leave", "/msg", "/who", "/rooms", "/history", "/ping", "/help", "/unknown", "//", "/"];
    private static readonly string[] Tricky = ["\n", "\r\n", "\u001b[2J", "\0", "\u202e", "\u2028", "é", "👋", "\"", "\\", "{", "}", "[dm] x -> y: ", "* ", "! ", "\t", "\u0085", "\ud83d\ude00"];

    /// <summary>True when the frame last returned by <see cref="Next"/> ends the connection on purpose.</summary>
    public bool LastEnds { get; private set; }

    /// <summary>What the frame last returned by <see cref="Next"/> was, for failure messages.</summary>
    public string LastKind { get; private set; } = "";

    /// <summary>The next frame's bytes (one or several WebSocket frames) for a connection of the given format.</summary>
    public byte[] Next(bool json)
    {
        LastEnds = false;
        int roll = random.Next(1000);
        LastKind = roll switch { < 420 => "request", < 600 => "mutated", < 700 => "other format", < 850 => "fragmented", < 990 => "junk", _ => "ending" };
        return roll switch
        {
            < 420 => Text(json ? Request() : Line()),
            < 600 => Text(json ? Mutate(Request()) : Mutate(Line())),
            < 700 => Text(json ? Line() : Request()),
            < 850 => Fragmented(Encoding.UTF8.GetBytes(json ? Request() : Line())),
            < 990 => Text(Junk()),
            _ => Ending(json),
        };
    }

    private byte[] Text(string text) => RawWebSocket.Frame(RawWebSocket.Text, Encoding.UTF8.GetBytes(text), random: random);

    private string Request()
    {
        var fields = new Dictionary<string, object?>();
        if (random.Next(20) != 0)
        {
            fields["type"] = Pick(Types);
        }

        foreach (string field in new[] { "room", "text", "name", "to", "ref", "since", "limit", "before" })
        {
            if (random.Next(3) == 0)
            {
                fields[field] = Value(field);
            }
        }

        return JsonSerializer.Serialize(fields);
    }

    private object? Value(string field) => random.Next(12) switch
    {
        0 => null,
        1 => random.Next(-5, 2000),
        2 => long.MaxValue - random.Next(3),
        3 => true,
        4 => new[] { 1, 2 },
        5 => new Dictionary<string, int> { ["x"] = 1 },
        6 => RandomString(random.Next(0, 200)),
        7 when random.Next(8) == 0 => new string('x', random.Next(maxFrameBytes / 8, maxFrameBytes / 2)),
        _ => field switch
        {
            "room" => Pick(Rooms),
            "name" or "to" => "fz" + random.Next(50),
            "since" or "limit" or "before" => random.Next(-1, 120),
            _ => RandomString(random.Next(1, 60)),
        },
    };

    private string Line() => random.Next(4) switch
    {
        0 => RandomString(random.Next(0, 300)),
        _ => $"{Pick(Commands)} {(random.Next(2) == 0 ? Pick(Rooms) : "fz" + random.Next(50))} {RandomString(random.Next(0, 80))}",
    };

    private string Junk() => random.Next(4) switch
    {
        0 => "",
        1 => "[" + RandomString(random.Next(0, 50)) + "]",
        2 => new string('{', random.Next(1, 2000)),
        _ => RandomString(random.Next(1, 100)),
    };

    /// <summary>Character-level edits, so the result stays valid UTF-8 (invalid UTF-8 is a frame kind of its own).</summary>
    private string Mutate(string text)
    {
        var chars = new StringBuilder(text);
        for (int edits = random.Next(1, 5); edits > 0 && chars.Length > 0; edits--)
        {
            int at = random.Next(chars.Length);
            switch (random.Next(5))
            {
                case 0: chars.Remove(at, 1); break;
                case 1: chars.Insert(at, Pick(Tricky)); break;
                case 2: chars[at] = (char)random.Next(0x20, 0x7F); break;
                case 3: chars.Length = at; break;
                default: chars.Insert(at, chars.ToString(at, Math.Min(20, chars.Length - at))); break;
            }
        }

        // A lone surrogate left by an edit would not encode; replace it as any sender's encoder would.
        return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(chars.ToString()));
    }

    /// <summary>One message in 2 to 5 fragments, with pings and unsolicited pongs between them (both allowed).</summary>
    private byte[] Fragmented(byte[] payload)
    {
        var output = new MemoryStream();
        int pieces = Math.Min(random.Next(2, 6), Math.Max(1, payload.Length));
        int start = 0;
        for (int i = 0; i < pieces; i++)
        {
            int end = i == pieces - 1 ? payload.Length : random.Next(start, payload.Length + 1);
            output.Write(RawWebSocket.Frame(i == 0 ? RawWebSocket.Text : RawWebSocket.Continuation, payload.AsSpan(start, end - start), fin: i == pieces - 1, random: random));
            start = end;
            if (i < pieces - 1 && random.Next(2) == 0)
            {
                var control = new byte[random.Next(0, 126)];
                random.NextBytes(control);
                output.Write(RawWebSocket.Frame(random.Next(2) == 0 ? RawWebSocket.Ping : RawWebSocket.Pong, control, random: random));
            }
        }

        return output.ToArray();
    }

    /// <summary>A frame the server must answer by closing: each with a close code of docs/protocol.md.</summary>
    private byte[] Ending(bool json)
    {
        LastEnds = true;
        int kind = random.Next(9);
        LastKind = $"ending {kind}";
        return kind switch
        {
            0 => RawWebSocket.Frame(RawWebSocket.Binary, Encoding.UTF8.GetBytes(Request()), random: random),
            1 => RawWebSocket.Frame(RawWebSocket.Text, [0x7B, 0xC3, 0x28, 0xFF, 0x7D], random: random), // invalid UTF-8
            2 => RawWebSocket.Frame(RawWebSocket.Text, new byte[maxFrameBytes + 1 + random.Next(100)], random: random),
            3 => RawWebSocket.Frame(RawWebSocket.Text, "{}"u8, random: random, rsv: 1 + random.Next(7)), // reserved bits
            4 => RawWebSocket.Frame(3 + random.Next(5), "x"u8, random: random), // reserved opcode
            5 => RawWebSocket.Frame(RawWebSocket.Ping, "x"u8, fin: false, random: random), // fragmented control frame
            6 => RawWebSocket.Frame(RawWebSocket.Continuation, "x"u8, random: random), // continuation of nothing
            7 => RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8], random: random), // the client closes: 1000
            _ => json ? RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8], random: random) : Text("/quit"),
        };
    }

    private string RandomString(int length)
    {
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            text.Append(random.Next(4) switch
            {
                0 => Pick(Tricky),
                1 => ((char)random.Next(0x20, 0x7F)).ToString(),
                2 => char.ConvertFromUtf32(random.Next(0xA0, 0xD7FF)),
                _ => ((char)random.Next('a', 'z' + 1)).ToString(),
            });
        }

        return text.ToString();
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
