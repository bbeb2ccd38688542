using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Fanout;

/// <summary>
/// One room, <see cref="Members"/> members (member 0 is the only sender), <see cref="Messages"/>
/// messages with at most <see cref="Window"/> not yet echoed back to the sender.
/// The server must allow the sender more than the default 20 messages/s
/// (<c>--ChatHub:Limits:MessagesPerSecond</c>, <c>MessageBurst</c>) or the run fails on <c>rate_limited</c>.
/// With several servers (nodes of one cluster) member i joins through server i modulo their number, the sender
/// through the first, and CPU is summed over all of them: the cross-node fan-out cost.
/// </summary>
internal sealed class FanoutOptions
{
    public required IReadOnlyList<ServerTarget> Servers { get; init; }
    public int Members { get; init; } = 200;
    public int Messages { get; init; } = 5000;
    /// <summary>The first messages warm up the JIT, pools and socket buffers; not timed, still checked.</summary>
    public int WarmupMessages { get; init; } = 500;
    public int Window { get; init; } = 32;
    public int TextChars { get; init; } = 64;
    /// <summary>Fresh per run so every member must see seq 1..K.</summary>
    public string Room { get; init; } = "fanout-" + Guid.NewGuid().ToString("N")[..10];
    public int ConnectConcurrency { get; init; } = 64;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(180);
    public string? Label { get; init; }
    public string? Command { get; init; }

    public static FanoutOptions From(CommandLine cl, string command) => new()
    {
        Servers = cl.Servers().ToList(),
        Members = cl.Int("members", 200),
        Messages = cl.Int("messages", 5000),
        WarmupMessages = cl.Int("warmup-messages", 500),
        Window = cl.Int("window", 32),
        TextChars = cl.Int("text-chars", 64),
        Room = cl.String("room") ?? "fanout-" + Guid.NewGuid().ToString("N")[..10],
        ConnectConcurrency = cl.Int("connect-concurrency", 64),
        MaxDuration = TimeSpan.FromSeconds(cl.Int("max-seconds", 180)),
        Label = cl.String("label"),
        Command = command,
    };

    public void Validate()
    {
        if (Members < 1 || Messages < 1 || Window < 1 || WarmupMessages < 0 || WarmupMessages >= Messages)
        {
            throw new UsageException("fanout: need members >= 1, messages >= 1, window >= 1, 0 <= warmup-messages < messages");
        }
    }
}
