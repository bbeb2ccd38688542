namespace ChatHub.LoadTests.Protocol;

/// <summary>The body of <c>GET /api/stats</c>.</summary>
internal sealed class ServerStats
{
    public long Connections { get; set; }
    public long Rooms { get; set; }
    public long MessagesIn { get; set; }
    public long MessagesOut { get; set; }
    public long WorkingSetBytes { get; set; }
    public long GcHeapBytes { get; set; }
    public double UptimeSeconds { get; set; }
}
