using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatHub.Tests.Deployment;

/// <summary>
/// The image built from the repository's Dockerfile by <c>deploy/build-image.sh</c>, run with podman as an
/// operator would: a volume for the SQLite file, the port published on the host, the image's own health check,
/// a graceful <c>podman stop</c>, a new container on the same volume, and a backup of the volume restored into another.
/// </summary>
public sealed class ContainerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int AppUid = 1654;
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _containers = [];

    private readonly TempDirectory _dir = new();

    private string Volume => "chathub-test-" + _id;

    private string RestoredVolume => "chathub-test-" + _id + "-restored";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (string container in _containers)
        {
            await Podman.RunAsync("rm", "--force", "--time", "0", container);
        }

        await Podman.RunAsync("volume", "rm", "--force", Volume);
        await Podman.RunAsync("volume", "rm", "--force", RestoredVolume);
        _dir.Dispose();
    }

    [Fact]
    public async Task The_image_serves_chat_from_the_host_stops_with_1001_and_keeps_history_on_its_volume_and_in_a_backup()
    {
        string image = await BuildImageAsync();
        await Podman.RunCheckedAsync("volume", "create", Volume);

        const int messages = 20;
        int port = ServerProcess.FreePort();
        string first = await RunContainerAsync(image, port, "first");
        await Podman.WaitHealthyAsync(first, TimeSpan.FromSeconds(90));

        // The server process (PID 1, the image's ENTRYPOINT) runs as the base image's non-root user.
        string status = await Podman.RunCheckedAsync("exec", first, "cat", "/proc/1/status");
        string uids = status.Split('\n').Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        Assert.All(uids["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries), uid => Assert.Equal(AppUid.ToString(), uid));

        // Reached from the host through the published port: the server listens beyond the container's loopback.
        await using (var ann = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name=ann&room=box")))
        await using (var bob = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name=bob&room=box")))
        {
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await bob.ExpectAsync("welcome");
            await bob.ExpectAsync("joined");
            for (int i = 1; i <= messages; i++)
            {
                await ann.SendJsonAsync(new { type = "say", room = "box", text = $"message {i}", @ref = $"r{i}" });
            }

            for (int i = 1; i <= messages; i++)
            {
                Assert.Equal(i, (long)(await ann.WaitForAsync("ack", f => (string?)f["ref"] == $"r{i}"))["seq"]!);
            }

            // podman stop sends the image's STOPSIGNAL (SIGTERM): bob gets every message queued for him, then 1001.
            var stop = Podman.RunAsync("stop", "--time", "20", first);
            for (int i = 1; i <= messages; i++)
            {
                var message = await bob.WaitForAsync("message");
                Assert.Equal(i, (long)message["seq"]!);
                Assert.Equal($"message {i}", (string?)message["text"]);
            }

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await bob.ReceiveCloseAsync());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ann.ReceiveCloseAsync());
            var stopped = await stop;
            Assert.True(stopped.ExitCode == 0, stopped.Describe("podman stop"));
        }

        // Stopped by the signal and exited by itself (0), not killed after the timeout (137).
        Assert.Equal("0", (await Podman.RunCheckedAsync("inspect", "--format", "{{.State.ExitCode}}", first)).Trim());

        // The backup of docs/operations.md: the stopped container's volume exported to a tar file.
        string backup = Path.Combine(_dir.Path, "chathub-data.tar");
        await Podman.RunCheckedAsync("volume", "export", "--output", backup, Volume);

        int secondPort = ServerProcess.FreePort();
        string second = await RunContainerAsync(image, secondPort, "second");
        await Podman.WaitHealthyAsync(second, TimeSpan.FromSeconds(90));
        await using (var carol = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{secondPort}/ws?format=json&name=carol&room=box")))
        {
            await carol.ExpectAsync("welcome");
            var history = (await carol.ExpectAsync("joined"))["history"]!.AsArray();
            Assert.Equal(Enumerable.Range(1, messages).Select(i => (long)i), history.Select(m => (long)m!["seq"]!));
            Assert.Equal(Enumerable.Range(1, messages).Select(i => $"message {i}"), history.Select(m => (string?)m!["text"]));
            await carol.SendJsonAsync(new { type = "say", room = "box", text = "after the restart", @ref = "c1" });
            Assert.Equal(messages + 1, (long)(await carol.WaitForAsync("ack"))["seq"]!);
        }

        // The restore: the tar imported into a new volume serves the history as it was at the backup.
        await Podman.RunCheckedAsync("volume", "create", RestoredVolume);
        await Podman.RunCheckedAsync("volume", "import", RestoredVolume, backup);
        int thirdPort = ServerProcess.FreePort();
        string third = await RunContainerAsync(image, thirdPort, "restored", RestoredVolume);
        await Podman.WaitHealthyAsync(third, TimeSpan.FromSeconds(90));
        await using (var dan = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{thirdPort}/ws?format=json&name=dan&room=box")))
        {
            await dan.ExpectAsync("welcome");
            var history = (await dan.ExpectAsync("joined"))["history"]!.AsArray();
            Assert.Equal(Enumerable.Range(1, messages).Select(i => (long)i), history.Select(m => (long)m!["seq"]!));
        }
    }

    /// <summary>Runs deploy/build-image.sh as a person would; it prints "chathub:VERSION chathub:latest SIZE".</summary>
    private async Task<string> BuildImageAsync()
    {
        string root = CommandLine.RepositoryRoot();
        var started = DateTime.UtcNow;
        var result = await CommandLine.RunAsync(Path.Combine(root, "deploy", "build-image.sh"), [], TimeSpan.FromMinutes(20), root);
        Assert.True(result.ExitCode == 0, result.Describe("deploy/build-image.sh"));
        string[] fields = result.Output.Trim().Split('\n')[^1].Split(' ');
        Assert.Matches(@"^chathub:\d+\.\d+\.\d+", fields[0]);
        Assert.Equal("chathub:latest", fields[1]);
        output.WriteLine($"built {fields[0]} in {(DateTime.UtcNow - started).TotalSeconds:F0} s; image size {long.Parse(fields[2]) / 1e6:F1} MB");
        Assert.True((await Podman.RunAsync("image", "exists", "chathub:latest")).ExitCode == 0);
        return fields[0];
    }

    private async Task<string> RunContainerAsync(string image, int port, string name, string? volume = null)
    {
        string container = $"chathub-test-{_id}-{name}";
        _containers.Add(container);
        long files = Math.Min(Podman.HardLimit("Max open files"), 20_000);
        long processes = Math.Min(Podman.HardLimit("Max processes"), 4_096);
        await Podman.RunCheckedAsync(
            "run", "--detach", "--name", container,
            "--volume", $"{volume ?? Volume}:/data",
            "--publish", $"127.0.0.1:{port}:8080",
            "--ulimit", $"nofile={files}:{files}", "--ulimit", $"nproc={processes}:{processes}",
            image);
        return container;
    }
}
