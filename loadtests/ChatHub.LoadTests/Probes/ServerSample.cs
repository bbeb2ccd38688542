namespace ChatHub.LoadTests.Probes;

/// <summary>One server's memory and counters at one moment.</summary>
internal sealed class ServerSample
{
    public string Url { get; set; } = "";
    public int? Pid { get; set; }
    public long? RssBytes { get; set; }
    public long? Connections { get; set; }
    public long? WorkingSetBytes { get; set; }
    public long? GcHeapBytes { get; set; }
    public long? MessagesOut { get; set; }
}
