using System.Diagnostics;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Protocol;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.Fanout;

/// <summary>A fan-out member: counts the room's messages, times the steady ones, signals warm-up and completion.</summary>
internal sealed class FanoutMember : MemberSink
{
    private readonly FanoutRun _run;

    public FanoutMember(FanoutRun run, bool isSender)
        : base(run.Room, run.Violations)
    {
        _run = run;
        IsSender = isSender;
    }

    public bool IsSender { get; }

    protected override void OnMessage(long? stamp, long receivedTimestamp)
    {
        long count = Interlocked.Read(ref Received);
        if (count > _run.WarmupMessages && stamp is long sent)
        {
            _run.Latency.RecordTicks(receivedTimestamp - sent);
        }
        if (IsSender)
        {
            // The echo of our own message frees one slot of the window.
            _run.Window.Release();
        }
        if (count == _run.WarmupMessages)
        {
            _run.WarmupDone.Signal();
        }
        if (count == _run.Messages)
        {
            _run.AllDone.Signal();
        }
    }

    protected override void OnError(ServerFrame frame)
    {
        if (IsSender)
        {
            // A rejected say (e.g. rate_limited) never echoes; free its slot so the run ends and reports it.
            _run.Window.Release();
        }
    }
}

/// <summary>State shared by the members of one fan-out run.</summary>
internal sealed class FanoutRun(FanoutOptions options)
{
    public string Room { get; } = options.Room;
    public int Messages { get; } = options.Messages;
    public int WarmupMessages { get; } = options.WarmupMessages;
    public ViolationLog Violations { get; } = new();
    public LatencyRecorder Latency { get; } = new();
    public SemaphoreSlim Window { get; } = new(options.Window, int.MaxValue);
    public AsyncCountdown WarmupDone { get; } = new(options.WarmupMessages == 0 ? 0 : options.Members);
    public AsyncCountdown AllDone { get; } = new(options.Members);
    public long StartTimestamp { get; set; } = Stopwatch.GetTimestamp();
}
