namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// The seed of a randomised test: <c>CHATHUB_FUZZ_SEED</c> when set (to replay a failure), else a new one per run.
/// Tests print it in every failure message.
/// </summary>
public static class FuzzSeed
{
    public static int Get() =>
        int.TryParse(Environment.GetEnvironmentVariable("CHATHUB_FUZZ_SEED"), out int seed) ? seed : Random.Shared.Next();
}
