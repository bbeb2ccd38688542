using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>One target's three runs, kept whole in the result file so every cell can be traced to its run.</summary>
internal sealed class CompareColumn
{
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public ConnectionsResult? Idle { get; set; }
    /// <summary>The optional ramp to the most connections one server process holds.</summary>
    public ConnectionsResult? Capacity { get; set; }
    public FanoutResult? Fanout { get; set; }
    public ChatResult? Chat { get; set; }
    /// <summary>Why a scenario produced no result (the server did not start, the run threw), by scenario.</summary>
    public List<string> Failures { get; set; } = [];

    /// <summary>RSS per connection added between the steps that targeted <paramref name="from"/> and the last step.</summary>
    public double? MarginalRssBytes(int from)
    {
        ConnectionStep? first = Idle?.Steps.FirstOrDefault(s => s.Target == from);
        ConnectionStep? last = Idle?.Steps.LastOrDefault();
        return first is null || last is null || last.Held <= first.Held || first.RssBytes is null || last.RssBytes is null
            ? null
            : (double)(last.RssBytes.Value - first.RssBytes.Value) / (last.Held - first.Held);
    }
}
