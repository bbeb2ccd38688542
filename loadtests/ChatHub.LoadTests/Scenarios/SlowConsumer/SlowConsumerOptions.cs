using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.SlowConsumer;

/// <summary>
/// A busy room (<see cref="Senders"/> of the <see cref="Members"/> send big messages at a fixed rate) plus
/// one extra member that stops reading after the warm-up. The server should close that one with 1013
/// while the others' latency and the server's memory stay where they were.
/// </summary>
internal sealed class SlowConsumerOptions
{
    public required IReadOnlyList<ServerTarget> Servers { get; init; }
    public int Members { get; init; } = 10;
    public int Senders { get; init; } = 2;
    public double RatePerSender { get; init; } = 200;
    /// <summary>Big texts fill the server's outbox and the socket buffers in seconds, not minutes.</summary>
    public int TextChars { get; init; } = 4000;
    /// <summary>SO_RCVBUF of the slow member: without it Linux autotunes a loopback buffer up to 32 MB.</summary>
    public int SlowReceiveBufferBytes { get; init; } = 64 * 1024;
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Give up waiting for the server to close the slow member after this long.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(40);
    /// <summary>Keep the room busy this long after the close, to show the others are unaffected.</summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    public string Room { get; init; } = "slow-" + Guid.NewGuid().ToString("N")[..10];
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public string? Label { get; init; }
    public string? Command { get; init; }

    public static SlowConsumerOptions From(CommandLine cl, string command) => new()
    {
        Servers = cl.Servers().Take(1).ToList(),
        Members = cl.Int("members", 10),
        Senders = cl.Int("senders", 2),
        RatePerSender = cl.Double("rate", 200),
        TextChars = cl.Int("text-chars", 4000),
        SlowReceiveBufferBytes = cl.Int("slow-rcvbuf", 64 * 1024),
        Warmup = TimeSpan.FromSeconds(cl.Double("warmup-seconds", 3)),
        StallTimeout = TimeSpan.FromSeconds(cl.Double("stall-timeout-seconds", 40)),
        After = TimeSpan.FromSeconds(cl.Double("after-seconds", 3)),
        Drain = TimeSpan.FromSeconds(cl.Double("drain-seconds", 15)),
        Room = cl.String("room") ?? "slow-" + Guid.NewGuid().ToString("N")[..10],
        Label = cl.String("label"),
        Command = command,
    };

    public void Validate()
    {
        if (Members < 1 || Senders < 1 || Senders > Members || RatePerSender <= 0 || TextChars < 24)
        {
            throw new UsageException("slow-consumer: need members >= senders >= 1, rate > 0, text-chars >= 24");
        }
        if (Servers.Any(s => s.Kind != TargetKind.ChatHub))
        {
            // The 1013 close and the slow-consumer counter are ChatHub's protocol; the peers have neither.
            throw new UsageException("slow-consumer: runs against ChatHub only (--kind chathub)");
        }
    }
}
