namespace ChatHub.LoadTests.Probes;

/// <summary>One server under test: its base URL, when on this machine its process id, and what it speaks.</summary>
internal sealed record ServerTarget(Uri BaseUrl, int? Pid, TargetKind Kind = TargetKind.ChatHub);
