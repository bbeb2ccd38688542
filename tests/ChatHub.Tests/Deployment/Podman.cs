namespace ChatHub.Tests.Deployment;

/// <summary>
/// Debian's podman as root with runc and cgroupfs (the machines that run these tests have no systemd to manage
/// cgroups), the same global flags <c>deploy/build-image.sh</c> uses by default.
/// </summary>
internal static class Podman
{
    private static readonly string[] GlobalFlags = ["--runtime", "runc", "--cgroup-manager=cgroupfs"];

    public static Task<CommandLine.Result> RunAsync(params string[] arguments) =>
        CommandLine.RunAsync("podman", [.. GlobalFlags, .. arguments], TimeSpan.FromMinutes(2));

    public static Task<string> RunCheckedAsync(params string[] arguments) =>
        CommandLine.RunCheckedAsync("podman", [.. GlobalFlags, .. arguments], TimeSpan.FromMinutes(2));

    /// <summary>
    /// Runs the image's own HEALTHCHECK until it passes (podman runs it on demand: without systemd there is no
    /// timer to run it by itself), polling within a bound.
    /// </summary>
    public static async Task WaitHealthyAsync(string container, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        CommandLine.Result last;
        do
        {
            last = await RunAsync("healthcheck", "run", container);
            if (last.ExitCode == 0)
            {
                Assert.Equal("healthy", (await RunCheckedAsync("inspect", "--format", "{{.State.Health.Status}}", container)).Trim());
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        while (DateTime.UtcNow < deadline);

        var logs = await RunAsync("logs", container);
        Assert.Fail($"{container} was not healthy within {bound}: {last.Describe("healthcheck run")}\nlogs:\n{logs.Output}{logs.Error}");
    }

    /// <summary>The hard limit of this process for a resource of /proc/self/limits ("Max open files", "Max processes").</summary>
    public static long HardLimit(string resource)
    {
        string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith(resource, StringComparison.Ordinal));
        string hard = line[resource.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return hard == "unlimited" ? long.MaxValue : long.Parse(hard);
    }
}
