using System.Net.WebSockets;
using System.Text.Json.Nodes;
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

        // 20 messages acked before the stop, then 15 more sent as the stop begins (all within the default burst of
        // 40, so none is refused by the rate limit and message i gets seq i).
        const int acked = 20, inFlight = 15;
        int port = ServerProcess.FreePort();
        string first = await RunContainerAsync(image, port, "first");
        await Podman.WaitHealthyAsync(first, TimeSpan.FromSeconds(90));

        // The server process (PID 1, the image's ENTRYPOINT) runs as the base image's non-root user.
        string status = await Podman.RunCheckedAsync("exec", first, "cat", "/proc/1/status");
        string uids = status.Split('\n').Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        Assert.All(uids["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries), uid => Assert.Equal(AppUid.ToString(), uid));

        // Reached from the host through the published port: the server listens beyond the container's loopback.
        var ackedSeqs = new List<long>();
        var delivered = new List<JsonObject>();
        await using (var ann = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name=ann&room=box")))
        await using (var bob = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws?format=json&name=bob&room=box")))
        {
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await bob.ExpectAsync("welcome");
            await bob.ExpectAsync("joined");
            for (int i = 1; i <= acked; i++)
            {
                await ann.SendJsonAsync(new { type = "say", room = "box", text = $"message {i}", @ref = $"r{i}" });
            }

            for (int i = 1; i <= acked; i++)
            {
                Assert.Equal(i, (long)(await ann.WaitForAsync("ack", f => (string?)f["ref"] == $"r{i}"))["seq"]!);
            }

            for (int i = acked + 1; i <= acked + inFlight; i++)
            {
                await ann.SendJsonAsync(new { type = "say", room = "box", text = $"message {i}", @ref = $"r{i}" });
            }

            // podman stop sends the image's STOPSIGNAL (SIGTERM): every frame queued for a client goes out, then 1001.
            var stop = Podman.RunAsync("stop", "--time", "20", first);
            while (await ann.ReceiveAsync() is { } text)
            {
                if (JsonNode.Parse(text) is JsonObject { } frame && (string?)frame["type"] == "ack")
                {
                    ackedSeqs.Add((long)frame["seq"]!);
                }
            }

            while (await bob.ReceiveAsync() is { } text)
            {
                if (JsonNode.Parse(text) is JsonObject { } frame && (string?)frame["type"] == "message")
                {
                    delivered.Add(frame);
                }
            }

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ann.CloseStatus);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, bob.CloseStatus);
            var stopped = await stop;
            Assert.True(stopped.ExitCode == 0, stopped.Describe("podman stop"));
        }

        // bob got every message up to the stop, in order, with no gap; each ack ann got is for one of them.
        Assert.Equal(Enumerable.Range(1, delivered.Count).Select(i => (long)i), delivered.Select(m => (long)m["seq"]!));
        Assert.Equal(delivered.Select(m => $"message {m["seq"]}"), delivered.Select(m => (string?)m["text"]));
        Assert.InRange(delivered.Count, acked, acked + inFlight);
        Assert.Equal(Enumerable.Range(acked + 1, ackedSeqs.Count).Select(i => (long)i), ackedSeqs);
        Assert.True(ackedSeqs.Count == 0 || ackedSeqs[^1] <= delivered.Count);

        // Stopped by the signal and exited by itself (0), not killed after the timeout (137).
        Assert.Equal("0", (await Podman.RunCheckedAsync("inspect", "--format", "{{.State.ExitCode}}", first)).Trim());

        // The backup of docs/operations.md: the stopped container's volume exported to a tar file.
        string backup = Path.Combine(_dir.Path, "chathub-data.tar");
        await Podman.RunCheckedAsync("volume", "export", "--output", backup, Volume);

        // A new container on the same volume: everything delivered or acked is there under the same seq (messages
        // still queued for the store at the stop were committed after the connections closed, so there may be more).
        int secondPort = ServerProcess.FreePort();
        string second = await RunContainerAsync(image, secondPort, "second");
        await Podman.WaitHealthyAsync(second, TimeSpan.FromSeconds(90));
        int stored;
        await using (var carol = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{secondPort}/ws?format=json&name=carol&room=box")))
        {
            await carol.ExpectAsync("welcome");
            var history = (await carol.ExpectAsync("joined"))["history"]!.AsArray();
            stored = history.Count;
            Assert.InRange(stored, delivered.Count, acked + inFlight);
            Assert.Equal(Enumerable.Range(1, stored).Select(i => (long)i), history.Select(m => (long)m!["seq"]!));
            Assert.Equal(Enumerable.Range(1, stored).Select(i => $"message {i}"), history.Select(m => (string?)m!["text"]));
            await carol.SendJsonAsync(new { type = "say", room = "box", text = "after the restart", @ref = "c1" });
            Assert.Equal(stored + 1, (long)(await carol.WaitForAsync("ack"))["seq"]!);
        }

        output.WriteLine($"at the stop: {delivered.Count} delivered, {acked + ackedSeqs.Count} acked, {stored} stored of {acked + inFlight} sent");

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
            Assert.Equal(Enumerable.Range(1, stored).Select(i => (long)i), history.Select(m => (long)m!["seq"]!));
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
