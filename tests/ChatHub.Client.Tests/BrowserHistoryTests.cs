using ChatHub.Client.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>Scroll-back: older messages load with `history` when the reader scrolls up.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserHistoryTests(BrowserFixture browser) : IAsyncLifetime
{
    private const int Seeded = 120;
    private ChatServer _server = null!;

    // Seeding 120 messages at the default 20/s would take seconds; the limits are not under test here.
    public async Task InitializeAsync() =>
        _server = await ChatServer.StartAsync("--ChatHub:Limits:MessagesPerSecond=1000", "--ChatHub:Limits:MessageBurst=1000");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Scrolling_up_loads_older_messages_until_the_first()
    {
        await using (ProtocolClient seeder = await ProtocolClient.ConnectAsync(_server, "seeder"))
        {
            await seeder.JoinAsync("archive");
            for (int i = 1; i <= Seeded; i++) await seeder.SayAsync("archive", $"seed {i:D3}");
        }

        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann", room: "archive");
        await ann.ExpectConnectedAsAsync("ann");

        // joined carries the newest 50: seq 71..120, scrolled to the newest.
        await Expect(ann.Messages).ToHaveCountAsync(50);
        await Expect(ann.Messages.First.Locator(".text")).ToHaveTextAsync("seed 071");
        await Expect(ann.Messages.Last).ToBeInViewportAsync();
        await Expect(ann.MessageWithText("seed 070")).ToHaveCountAsync(0);

        // A person scrolls up with the mouse wheel: the previous 50 load above.
        await ann.Page.Locator("#messages").HoverAsync();
        await ann.Page.Mouse.WheelAsync(0, -100_000);
        await Expect(ann.Messages).ToHaveCountAsync(100);
        await Expect(ann.Messages.First.Locator(".text")).ToHaveTextAsync("seed 021");
        // The reader's place is kept: what was at the top is still on screen, not the new top.
        await Expect(ann.MessageWithText("seed 071")).ToBeInViewportAsync();
        await Expect(ann.MessageWithText("seed 021")).Not.ToBeInViewportAsync();

        await ann.Page.Mouse.WheelAsync(0, -100_000);
        await Expect(ann.Messages).ToHaveCountAsync(Seeded);
        await Expect(ann.Messages.First.Locator(".text")).ToHaveTextAsync("seed 001");
        await Expect(ann.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Load older messages" })).ToBeHiddenAsync();

        // Every message once, in seq order.
        Assert.Equal(Enumerable.Range(1, Seeded).Select(i => (long)i), await ann.ShownSeqsAsync());
        Assert.Equal(Enumerable.Range(1, Seeded).Select(i => $"seed {i:D3}"), await ann.ShownTextsAsync());
        await Screenshots.SaveAsync(ann.Page, "history-scrollback");

        // Reading old messages, a new one arrives: the view stays, a button offers the way down.
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(_server, "bob");
        await bob.JoinAsync("archive");
        await bob.SayAsync("archive", "fresh news");
        ILocator newBelow = ann.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "New messages below" });
        await Expect(newBelow).ToBeVisibleAsync();
        await Expect(ann.MessageWithText("fresh news")).Not.ToBeInViewportAsync();
        await newBelow.ClickAsync();
        await Expect(ann.MessageWithText("fresh news")).ToBeInViewportAsync();
        await Expect(newBelow).ToBeHiddenAsync();
        Assert.Empty(ann.ScriptErrors);
    }
}
