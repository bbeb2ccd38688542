using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Chat;

/// <summary>
/// Open-loop chat: <see cref="Connections"/> members spread over <see cref="Rooms"/> fresh rooms, each
/// sending <see cref="RatePerConnection"/> messages/s on its own schedule. Latency counts from the
/// scheduled send time, so a sender that falls behind shows up as latency instead of hiding it.
/// </summary>
internal sealed class ChatOptions
{
    public required IReadOnlyList<ServerTarget> Servers { get; init; }
    public int Connections { get; init; } = 1000;
    public int Rooms { get; init; } = 50;
    public double RatePerConnection { get; init; } = 1.0;
    public int TextChars { get; init; } = 100;
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>After the last send: how long to wait for the last deliveries before counting losses.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(15);
    public string RoomPrefix { get; init; } = "chat-" + Guid.NewGuid().ToString("N")[..8] + "-";
    public int ConnectConcurrency { get; init; } = 64;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public string? Label { get; init; }
    public string? Command { get; init; }

    public static ChatOptions From(CommandLine cl, string command) => new()
    {
        Servers = cl.Servers().ToList(), // several: a cluster's nodes; connection i goes to node i mod n
        Connections = cl.Int("connections", 1000),
        Rooms = cl.Int("rooms", 50),
        RatePerConnection = cl.Double("rate", 1.0),
        TextChars = cl.Int("text-chars", 100),
        Warmup = TimeSpan.FromSeconds(cl.Double("warmup-seconds", 5)),
        Duration = TimeSpan.FromSeconds(cl.Double("seconds", 30)),
        Drain = TimeSpan.FromSeconds(cl.Double("drain-seconds", 15)),
        RoomPrefix = cl.String("room-prefix") ?? "chat-" + Guid.NewGuid().ToString("N")[..8] + "-",
        ConnectConcurrency = cl.Int("connect-concurrency", 64),
        Label = cl.String("label"),
        Command = command,
    };

    public void Validate()
    {
        if (Connections < 1 || Rooms < 1 || Rooms > Connections || RatePerConnection <= 0 || Duration <= TimeSpan.Zero)
        {
            throw new UsageException("chat: need connections >= rooms >= 1, rate > 0, seconds > 0");
        }
    }
}
