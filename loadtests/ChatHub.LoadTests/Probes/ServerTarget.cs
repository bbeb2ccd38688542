namespace ChatHub.LoadTests.Probes;

/// <summary>One server under test: its base URL and, when on this machine, its process id.</summary>
internal sealed record ServerTarget(Uri BaseUrl, int? Pid);
