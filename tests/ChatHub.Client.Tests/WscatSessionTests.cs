using ChatHub.Client.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatHub.Client.Tests;

/// <summary>
/// A person at a terminal: the real `wscat` in text format, talking to another
/// wscat user through the real server, reading lines the way a person would.
/// </summary>
public sealed class WscatSessionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ChatServer _server = null!;

    public async Task InitializeAsync() => _server = await ChatServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_terminal_session_chats_renames_messages_privately_and_quits()
    {
        await using WscatProcess ann = WscatProcess.Start(_server.WebSocketUri("name=ann&room=lobby"));
        // wscat drops what is typed before the socket is open: wait for the welcome.
        await ann.ReadLineContainingAsync("Connected");
        await ann.ReadLineContainingAsync("welcome ann");
        await ann.ReadLineContainingAsync("lobby");

        await using WscatProcess bob = WscatProcess.Start(_server.WebSocketUri("name=bob&room=lobby"));
        await bob.ReadLineContainingAsync("welcome bob");
        await ann.ReadLineAsync(line => line.Contains("bob joined lobby", StringComparison.Ordinal));

        await ann.TypeAsync("hello bob");
        await bob.ReadLineContainingAsync("[lobby] ann: hello bob");
        await ann.ReadLineContainingAsync("[lobby] ann: hello bob");

        await bob.TypeAsync("hi ann, welcome to the terminal");
        await ann.ReadLineContainingAsync("[lobby] bob: hi ann, welcome to the terminal");

        await ann.TypeAsync("/nick annie");
        await ann.ReadLineContainingAsync("annie");
        await bob.ReadLineAsync(line => line.Contains("ann", StringComparison.Ordinal) && line.Contains("annie", StringComparison.Ordinal));

        await ann.TypeAsync("/msg bob this is just between us");
        await bob.ReadLineContainingAsync("[dm] annie -> bob: this is just between us");
        await ann.ReadLineContainingAsync("[dm] annie -> bob: this is just between us");

        await ann.TypeAsync("/who");
        await ann.ReadLineAsync(line => line.Contains("annie", StringComparison.Ordinal) && line.Contains("bob", StringComparison.Ordinal));

        await ann.TypeAsync("/history");
        await ann.ReadLineContainingAsync("ann: hello bob");
        await ann.ReadLineContainingAsync("bob: hi ann, welcome to the terminal");

        await ann.TypeAsync("/msg nobody hello?");
        await ann.ReadLineContainingAsync("! no_such_user");

        await ann.TypeAsync("/quit");
        await ann.ReadLineContainingAsync("Disconnected (code: 1000");
        Assert.Equal(0, await ann.WaitForExitAsync());
        await bob.ReadLineContainingAsync("annie left lobby");

        // The transcript is the README example in docs/client.md.
        output.WriteLine(string.Join("\n", ann.Transcript));
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "transcripts"));
        await File.WriteAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "transcripts", "wscat-ann.txt"), ann.Transcript);
    }
}
