namespace ChatHub.LoadTests.Protocol;

/// <summary><c>say</c>: the only request the scenarios send after the connect-time join.</summary>
internal sealed class SayFrame
{
    public string Type { get; set; } = "say";
    public required string Room { get; set; }
    public required string Text { get; set; }
    public string? Ref { get; set; }
}
