using ChatHub.Client.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>A person typing faster than the server's rate limit sees which messages were dropped.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserRateLimitTests(BrowserFixture browser) : IAsyncLifetime
{
    private ChatServer _server = null!;

    // A burst of 3 and 1 per second: a quick run of lines is sure to go over. Every request draws on the same
    // bucket (a join half a message, rooms a quarter), so what the client sends on connecting takes about one of
    // the three and two messages fit.
    public async Task InitializeAsync() =>
        _server = await ChatServer.StartAsync("--ChatHub:Limits:MessagesPerSecond=1", "--ChatHub:Limits:MessageBurst=3");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Messages_over_the_rate_limit_are_marked_rate_limited_and_the_rest_arrive()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        const int sent = 6;

        for (int i = 1; i <= sent; i++) await ann.SendAsync($"quick {i}");

        // Each line ends either acked (shown in the room) or refused (still listed, with the reason).
        await Expect(ann.Page.Locator("#pending-list li[data-state=sending]")).ToHaveCountAsync(0);
        int delivered = await ann.Messages.CountAsync();
        int refused = await ann.Pending.CountAsync();
        Assert.Equal(sent, delivered + refused);
        Assert.InRange(refused, 1, sent - 2);
        await Expect(ann.Pending.Locator(".status")).ToHaveTextAsync(Enumerable.Repeat(new System.Text.RegularExpressions.Regex("Not sent — rate_limited"), refused));
        // The first two fit the burst; delivered messages keep their typing order.
        string[] shown = await ann.ShownTextsAsync();
        Assert.Equal(["quick 1", "quick 2"], shown.Take(2));
        Assert.Equal(shown.OrderBy(t => t, StringComparer.Ordinal), shown);
    }
}
