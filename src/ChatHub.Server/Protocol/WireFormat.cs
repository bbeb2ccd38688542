namespace ChatHub.Server.Protocol;

/// <summary>The two wire formats of docs/protocol.md: JSON objects for programs, lines for people.</summary>
public enum WireFormat
{
    Text,
    Json,
}
