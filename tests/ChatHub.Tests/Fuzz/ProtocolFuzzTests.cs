using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Fuzz;

/// <summary>
/// Fuzzes the WebSocket protocol over raw sockets, on both accept paths: JSON and text connections send random and
/// mutated requests, text lines, fragmented messages with control frames between the fragments, invalid UTF-8,
/// binary and oversized frames and protocol violations, at least <see cref="MinFrames"/> frames per run in
/// batches of up to 100 per write, on each accept path. After (and during) the run: the server lives, every <c>error</c> has a
/// documented code, every close a documented close code, no text-format line holds a control character, an
/// honest client on the side was never disturbed, and the messages stored before the run are intact.
/// Seed: <c>CHATHUB_FUZZ_SEED</c> (printed on failure); frames: <c>CHATHUB_FUZZ_FRAMES</c>.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class ProtocolFuzzTests
{
    /// <summary>Per accept path.</summary>
    private const int MinFrames = 100_000;
    private const int MaxFrameBytes = 16 * 1024;
    private const int Workers = 6;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(90);

    private static readonly HashSet<string> ErrorCodeSet = typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToHashSet();

    // docs/protocol.md's close codes (1002 among them: .NET's WebSocket closes with it on a frame that breaks RFC 6455).
    private static readonly HashSet<int> CloseCodeSet = typeof(CloseCodes).GetFields().Select(f => (int)(System.Net.WebSockets.WebSocketCloseStatus)f.GetValue(null)!).ToHashSet();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Random_frames_get_only_documented_answers_and_disturb_no_one(bool onTransport)
    {
        int seed = FuzzSeed.Get();
        int target = int.TryParse(Environment.GetEnvironmentVariable("CHATHUB_FUZZ_FRAMES"), out int frames) ? frames : MinFrames;
        using var directory = new TempDirectory();
        await using var server = await TestServer.StartSqliteAsync(directory.File("fuzz.db"),
            $"Connections:AcceptOnTransport={onTransport}", "Storage:Synchronous=NORMAL",
            $"Limits:MaxFrameBytes={MaxFrameBytes}", "Limits:MessagesPerSecond=1000000", "Limits:MessageBurst=1000000",
            "Connections:KeepAliveInterval=00:10:00");

        // Stored before the run, read back after it.
        await using var witness = await server.ConnectJsonAsync("name=w1tness&room=w1tness-room");
        await witness.ExpectAsync("welcome");
        await witness.ExpectAsync("joined");
        var stored = new List<(long Seq, string Text)>();
        for (int i = 0; i < 20; i++)
        {
            string text = $"kept {i} \n\u001b é 👋";
            await witness.SendJsonAsync(new { type = "say", room = "w1tness-room", text, @ref = $"k{i}" });
            var message = await witness.ExpectAsync("message");
            await witness.ExpectAsync("ack");
            stored.Add(((long)message["seq"]!, text));
        }

        var failures = new ConcurrentQueue<string>();
        var closes = new ConcurrentDictionary<string, int>();
        long sent = 0;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(Budget);

        // The honest client: round trips through the server the whole time, each answered.
        int roundTrips = 0;
        var honest = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && Interlocked.Read(ref sent) < target)
            {
                await witness.SendJsonAsync(new { type = "ping", @ref = $"p{roundTrips}" });
                var pong = await witness.ExpectAsync("pong");
                Assert.Equal($"p{roundTrips}", (string?)pong["ref"]);
                roundTrips++;
            }
        });

        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            var generator = new FuzzFrames(random, MaxFrameBytes);
            int connection = 0;
            while (!stop.IsCancellationRequested && Interlocked.Read(ref sent) < target)
            {
                bool json = random.Next(3) != 0;
                using var socket = await RawWebSocket.ConnectAsync(server.BaseAddress, $"{(json ? "format=json&" : "")}name=fz{w}x{connection++}&room={(random.Next(2) == 0 ? "lobby" : "a")}");
                var reading = Task.Run(() => ReadAllAsync(socket, json, failures));
                var kinds = new Queue<string>();
                bool ended = false, writeFailed = false;
                while (!ended && !reading.IsCompleted && !stop.IsCancellationRequested && Interlocked.Read(ref sent) < target)
                {
                    var batch = new MemoryStream();
                    int count = random.Next(1, 101);
                    int i = 0;
                    for (; i < count && !ended; i++)
                    {
                        batch.Write(generator.Next(json));
                        ended = generator.LastEnds;
                        kinds.Enqueue(generator.LastKind);
                        if (kinds.Count > 5)
                        {
                            kinds.Dequeue();
                        }
                    }

                    try
                    {
                        await socket.WriteAsync(batch.ToArray());
                        Interlocked.Add(ref sent, i);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                        writeFailed = true;
                        break; // the server closed it (a frame it had to refuse): reading tells which code
                    }
                }

                if (!ended && !reading.IsCompleted)
                {
                    await socket.WriteAsync(RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8]));
                }

                bool wroteIntoClose = writeFailed;
                int? code;
                try
                {
                    code = await reading;
                }
                catch (OperationCanceledException)
                {
                    failures.Enqueue($"no close within {WsClient.Timeout} after {string.Join(", ", kinds)} (ended: {ended})");
                    continue;
                }

                closes.AddOrUpdate(code?.ToString() ?? "none", 1, (_, n) => n + 1);
                // A connection the server ended while this client was still writing into it may be reset, and a
                // reset can discard the close frame before it is read (TCP drops unread data on RST). Otherwise the
                // client stopped writing at the frame that ended it, so the close frame must be there.
                if (code is null && wroteIntoClose)
                {
                    closes.AddOrUpdate("reset while writing", 1, (_, n) => n + 1);
                }
                else if (code is not { } c || !CloseCodeSet.Contains(c))
                {
                    failures.Enqueue($"connection closed with {code?.ToString() ?? "no close frame"} after {string.Join(", ", kinds)} (ended: {ended})");
                }
            }
        })).ToList();

        await Task.WhenAll(workers);
        await honest;
        string summary = $"seed {seed}, {sent} frames in {clock.Elapsed.TotalSeconds:F0} s, closes {string.Join(", ", closes.Select(c => $"{c.Key}×{c.Value}"))}";
        Assert.True(failures.IsEmpty, $"{summary}: {string.Join("\n", failures.Take(20))}");
        Assert.True(sent >= target, $"{summary}: fewer than {target} frames within {Budget}");
        Assert.True(roundTrips > 0, summary);

        // The server lives and serves, the honest client is still open, the stored messages are intact.
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal("Healthy", await http.GetStringAsync("/readyz"));
        Assert.Equal(WebSocketState.Open, witness.Socket.State);
        await witness.SendJsonAsync(new { type = "history", room = "w1tness-room", limit = 100 });
        var history = await witness.ExpectAsync("history");
        var kept = history["messages"]!.AsArray().Select(m => ((long)m!["seq"]!, (string)m["text"]!)).ToList();
        Assert.Equal(stored, kept);
        await using var late = await server.ConnectJsonAsync("name=late");
        await late.ExpectAsync("welcome");
    }

    /// <summary>Checks every server frame until the close; returns its code (null: the TCP connection just ended).</summary>
    private static async Task<int?> ReadAllAsync(RawWebSocket socket, bool json, ConcurrentQueue<string> failures)
    {
        try
        {
            return await socket.ReadUntilCloseAsync((opcode, payload) =>
            {
                if (opcode != RawWebSocket.Text)
                {
                    if (opcode is not (RawWebSocket.Ping or RawWebSocket.Pong))
                    {
                        failures.Enqueue($"server frame with opcode {opcode}");
                    }

                    return;
                }

                string text = Encoding.UTF8.GetString(payload);
                if (json && text.Contains("\"error\"", StringComparison.Ordinal))
                {
                    var frame = JsonNode.Parse(text)!;
                    if ((string?)frame["type"] == "error" && !ErrorCodeSet.Contains((string?)frame["code"] ?? ""))
                    {
                        failures.Enqueue($"undocumented error code: {text}");
                    }
                }
                else if (!json)
                {
                    if (text.Any(c => char.IsControl(c)))
                    {
                        failures.Enqueue($"control character in a text-format line: {JsonSerializer.Serialize(text)}");
                    }

                    if (text.StartsWith("! ", StringComparison.Ordinal) && !ErrorCodeSet.Contains(text[2..text.IndexOf(':')]))
                    {
                        failures.Enqueue($"undocumented error code: {text}");
                    }
                }
            });
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            failures.Enqueue($"unreadable server frame: {e.Message}");
            return null;
        }
    }
}
