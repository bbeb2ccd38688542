namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// Test classes that keep both cores busy for a while (fuzzing, hundreds of handshakes, tens of megabytes of
/// replies) run alone, after the others, so they cannot starve tests that wait for a reply within a timeout.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Runs alone";
}
