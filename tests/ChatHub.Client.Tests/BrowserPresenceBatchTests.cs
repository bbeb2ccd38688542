using System.Text.Json.Nodes;
using ChatHub.Client.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>
/// The browser client asks for presence batches (docs/protocol.md, "Presence batches") and keeps its member list
/// right from them: joins, renames and leaves of one tick, a member who comes and goes within it, and changes made
/// before its own join that a batch replays. The tick is the longest (5 s): the message that ends the changes is
/// what sends the batch, since a batch always goes before the room's next message.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserPresenceBatchTests(BrowserFixture browser) : IAsyncLifetime
{
    private ChatServer _server = null!;

    public async Task InitializeAsync() => _server = await ChatServer.StartAsync("--ChatHub:Presence:BatchInterval=00:00:05");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_member_list_follows_a_tick_of_joins_renames_and_leaves()
    {
        await using var carol = await ProtocolClient.ConnectAsync(_server, "carol");
        await carol.JoinAsync("lobby");
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "carol"]);

        await using var dave = await ProtocolClient.ConnectAsync(_server, "dave");
        await dave.JoinAsync("lobby");
        await carol.SendAsync(new JsonObject { ["type"] = "nick", ["name"] = "caroline" });
        await carol.WaitForAsync(f => ProtocolClient.Type(f) == "nick");
        await using (var erin = await ProtocolClient.ConnectAsync(_server, "erin"))
        {
            await erin.JoinAsync("lobby");
            await erin.SendAsync(new JsonObject { ["type"] = "leave", ["room"] = "lobby" });
            await erin.WaitForAsync(f => ProtocolClient.Type(f) == "left");
        }

        await dave.SendAsync(new JsonObject { ["type"] = "leave", ["room"] = "lobby" });
        await dave.WaitForAsync(f => ProtocolClient.Type(f) == "left");
        await carol.SayAsync("lobby", "all here?");

        await Expect(ann.MessageWithText("all here?")).ToHaveCountAsync(1);
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "caroline"]);
        foreach (string note in new[] { "dave joined", "carol is now caroline", "erin joined", "erin left", "dave left" })
        {
            await Expect(ann.NoteWithText(note)).ToHaveCountAsync(1);
        }

        // Her own join, replayed in the batch, and carol, already listed, get no note.
        await Expect(ann.NoteWithText("ann joined")).ToHaveCountAsync(0);
        await Expect(ann.NoteWithText("carol joined")).ToHaveCountAsync(0);

        // It came in batches, the last of them before the message, and no single presence event came at all.
        List<string> types;
        lock (ann.ReceivedFrames)
        {
            types = ann.ReceivedFrames.Select(f => (string?)JsonNode.Parse(f)?["type"] ?? "").ToList();
        }

        Assert.DoesNotContain("presence", types);
        int batch = types.LastIndexOf("presence_batch");
        Assert.True(batch >= 0 && batch < types.IndexOf("message"), string.Join(", ", types));
        Assert.Empty(ann.ScriptErrors);
    }
}
