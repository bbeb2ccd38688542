using ChatHub.Client.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>People chatting through the browser client against the real server.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserChatTests(BrowserFixture browser) : IAsyncLifetime
{
    private ChatServer _server = null!;

    public async Task InitializeAsync() => _server = await ChatServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Two_pages_chat_with_each_other_in_one_room()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.ConversationTitle).ToHaveTextAsync("#lobby");
        await using ChatPage bob = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "bob");
        await bob.ExpectConnectedAsAsync("bob");

        await ann.SendAsync("hello bob");
        await Expect(bob.MessageWithText("hello bob")).ToHaveCountAsync(1);
        await Expect(bob.MessageWithText("hello bob").Locator(".from")).ToHaveTextAsync("ann");

        await bob.SendAsync("hi ann, how are you?");
        await ann.SendAsync("fine, thanks");
        await Expect(ann.MessageWithText("hi ann, how are you?")).ToHaveCountAsync(1);
        await Expect(bob.MessageWithText("fine, thanks")).ToHaveCountAsync(1);

        // The sender sees its own message once, in place, with nothing left pending.
        await Expect(ann.MessageWithText("hello bob")).ToHaveCountAsync(1);
        await Expect(ann.Pending).ToHaveCountAsync(0);
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["hello bob", "hi ann, how are you?", "fine, thanks"]);
        await Expect(bob.Messages.Locator(".text")).ToHaveTextAsync(["hello bob", "hi ann, how are you?", "fine, thanks"]);
        long[] seqs = await ann.ShownSeqsAsync();
        Assert.Equal(new long[] { 1, 2, 3 }, seqs);

        // The timestamp is shown in the browser's local time zone, not in UTC.
        string? iso = await ann.MessageWithText("hello bob").Locator("time").GetAttributeAsync("datetime");
        DateTimeOffset sent = DateTimeOffset.Parse(iso!, System.Globalization.CultureInfo.InvariantCulture);
        string local = sent.ToOffset(ChatPage.TimeZoneOffset).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        await Expect(ann.MessageWithText("hello bob").Locator("time")).ToHaveTextAsync(local);

        await Screenshots.SaveAsync(ann.Page, "chat-desktop");
        Assert.Empty(ann.ScriptErrors);
        Assert.Empty(bob.ScriptErrors);
    }

    [Fact]
    public async Task A_reload_keeps_the_name_and_the_rooms()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri);
        await Expect(ann.Connection).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Connected as guest-"));
        await ann.SendAsync("/nick annika");
        await ann.ExpectConnectedAsAsync("annika");
        await ann.SendAsync("/join garden");
        await Expect(ann.JoinedRooms).ToHaveTextAsync(["#lobby", "#garden"]);
        await ann.SendAsync("tulips are up");
        await Expect(ann.MessageWithText("tulips are up")).ToHaveCountAsync(1);

        await ann.Page.ReloadAsync();

        await ann.ExpectConnectedAsAsync("annika");
        await Expect(ann.JoinedRooms).ToHaveTextAsync(["#lobby", "#garden"]);
        await ann.JoinedRooms.Filter(new() { HasText = "#garden" }).GetByRole(AriaRole.Button).ClickAsync();
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["tulips are up"]);
    }

    [Fact]
    public async Task Presence_shows_people_joining_and_leaving()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)"]);

        await using (ChatPage bob = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "bob"))
        {
            await bob.ExpectConnectedAsAsync("bob");
            await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "bob"]);
            await Expect(ann.NoteWithText("bob joined")).ToHaveCountAsync(1);
            await Expect(ann.RoomDirectory.Filter(new() { HasText = "#lobby" })).ToContainTextAsync("2 members");

            // Bob creates a second room: the directory learns about it, and he leaves lobby.
            await bob.Page.GetByLabel("Join or create a room").FillAsync("kitchen");
            await bob.Page.GetByLabel("Join or create a room").PressAsync("Enter");
            await Expect(bob.ConversationTitle).ToHaveTextAsync("#kitchen");
            await Expect(bob.JoinedRooms).ToHaveTextAsync(["#lobby", "#kitchen"]);
            await bob.JoinedRooms.Filter(new() { HasText = "#lobby" }).GetByRole(AriaRole.Button).ClickAsync();
            await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Leave room" }).ClickAsync();
            await Expect(bob.JoinedRooms).ToHaveTextAsync(["#kitchen"]);

            await Expect(ann.Members).ToHaveTextAsync(["ann (you)"]);
            await Expect(ann.NoteWithText("bob left")).ToHaveCountAsync(1);
            await Expect(ann.RoomDirectory.Filter(new() { HasText = "#kitchen" })).ToContainTextAsync("1 member");
            await Expect(ann.RoomDirectory.Filter(new() { HasText = "#lobby" })).ToContainTextAsync("1 member");

            // Ann joins bob's room from the directory and sees him there.
            await ann.RoomDirectory.Filter(new() { HasText = "#kitchen" }).GetByRole(AriaRole.Button).ClickAsync();
            await Expect(ann.ConversationTitle).ToHaveTextAsync("#kitchen");
            await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "bob"]);
            await Expect(bob.Members).ToHaveTextAsync(["ann", "bob (you)"]);
        }

        // Closing bob's page ends his connection: ann sees him go.
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)"]);
        await Expect(ann.NoteWithText("bob left")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Unread_counts_show_for_rooms_not_in_view()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann", room: "lobby");
        await ann.ExpectConnectedAsAsync("ann");
        await ann.SendAsync("/join side");
        await Expect(ann.ConversationTitle).ToHaveTextAsync("#side");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(_server, "bob");
        await bob.JoinAsync("lobby");

        await bob.SayAsync("lobby", "one");
        await bob.SayAsync("lobby", "two");
        ILocator lobby = ann.JoinedRooms.Filter(new() { HasText = "#lobby" });
        await Expect(lobby.Locator(".badge")).ToHaveTextAsync("2");
        await Expect(ann.Page).ToHaveTitleAsync("(2) ChatHub");

        await lobby.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["one", "two"]);
        await Expect(lobby.Locator(".badge")).ToHaveCountAsync(0);
        await Expect(ann.Page).ToHaveTitleAsync("ChatHub");
    }

    [Fact]
    public async Task Direct_messages_by_clicking_a_member_and_by_msg_command()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await using ChatPage bob = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "bob");
        await ann.ExpectConnectedAsAsync("ann");
        await bob.ExpectConnectedAsAsync("bob");

        await ann.Member("bob").GetByRole(AriaRole.Button).ClickAsync();
        await Expect(ann.ConversationTitle).ToHaveTextAsync("bob (direct messages)");
        await ann.SendAsync("psst, bob");
        await Expect(ann.MessageWithText("psst, bob")).ToHaveAttributeAsync("data-state", "sent");

        // Bob is in lobby: the DM thread appears with an unread count.
        ILocator thread = bob.DirectMessageThreads.Filter(new() { HasText = "ann" });
        await Expect(thread.Locator(".badge")).ToHaveTextAsync("1");
        await Expect(bob.MessageWithText("psst, bob")).ToHaveCountAsync(0);
        await thread.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(bob.ConversationTitle).ToHaveTextAsync("ann (direct messages)");
        await Expect(bob.MessageWithText("psst, bob")).ToHaveCountAsync(1);

        // /msg works from any conversation; the reply lands in ann's open DM thread.
        await bob.JoinedRooms.Filter(new() { HasText = "#lobby" }).GetByRole(AriaRole.Button).ClickAsync();
        await bob.SendAsync("/msg ann hi back");
        await Expect(bob.ConversationTitle).ToHaveTextAsync("ann (direct messages)");
        await Expect(ann.MessageWithText("hi back")).ToHaveCountAsync(1);
        await Expect(ann.Messages.Locator(".text")).ToHaveTextAsync(["psst, bob", "hi back"]);
        await Expect(bob.Messages.Locator(".text")).ToHaveTextAsync(["psst, bob", "hi back"]);

        // Nothing of the DM leaked into the room.
        await ann.JoinedRooms.Filter(new() { HasText = "#lobby" }).GetByRole(AriaRole.Button).ClickAsync();
        await Expect(ann.Messages).ToHaveCountAsync(0);

        await bob.SendAsync("/msg nobody-here hello?");
        await Expect(bob.MessageWithText("hello?")).ToHaveAttributeAsync("data-state", "failed");
        await Expect(bob.MessageWithText("hello?").Locator(".status")).ToContainTextAsync("no_such_user");
        await Screenshots.SaveAsync(bob.Page, "direct-messages");
        Assert.Empty(ann.ScriptErrors);
        Assert.Empty(bob.ScriptErrors);
    }

    [Fact]
    public async Task Html_in_messages_is_shown_as_text()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await using ChatPage bob = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "bob");
        await bob.ExpectConnectedAsAsync("bob");
        const string html = "<img src=x onerror=\"window.pwned=1\"><b>bold</b> & <script>window.pwned=2</script>";

        await ann.SendAsync(html);

        await Expect(bob.MessageWithText(html)).ToHaveCountAsync(1);
        await Expect(ann.MessageWithText(html)).ToHaveCountAsync(1);
        foreach (ChatPage page in new[] { ann, bob })
        {
            Assert.Equal(0, await page.Page.Locator("#messages img, #messages b, #messages script").CountAsync());
            Assert.Null(await page.Page.EvaluateAsync<int?>("() => window.pwned ?? null"));
        }
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_marked_failed_with_the_error()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        string huge = new('x', 5000); // the default limit is 4096 UTF-8 bytes

        await ann.SendAsync(huge);

        ILocator failed = ann.Pending.Filter(new() { HasText = "Not sent" });
        await Expect(failed).ToHaveAttributeAsync("data-state", "failed");
        await Expect(failed.Locator(".status")).ToContainTextAsync("too_large");
        await Expect(ann.Messages).ToHaveCountAsync(0);

        // A normal message still goes through afterwards, and the failed one can be discarded.
        await ann.SendAsync("short one");
        await Expect(ann.MessageWithText("short one")).ToHaveCountAsync(1);
        await Screenshots.SaveAsync(ann.Page, "message-refused");
        await failed.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(ann.Pending).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Renaming_updates_everyone_and_a_taken_name_is_refused()
    {
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri);
        await Expect(ann.Connection).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Connected as guest-"));
        await using ChatPage bob = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "bob");
        await bob.ExpectConnectedAsAsync("bob");

        ILocator nameBox = ann.Page.GetByLabel("Your name");
        await nameBox.FillAsync("ann");
        await nameBox.PressAsync("Enter");
        await ann.ExpectConnectedAsAsync("ann");
        await Expect(bob.Members).ToHaveTextAsync(["ann", "bob (you)"]);
        await Expect(bob.NoteWithText("is now ann")).ToHaveCountAsync(1);

        await nameBox.FillAsync("BOB");
        await ann.Page.GetByRole(AriaRole.Button, new() { Name = "Rename" }).ClickAsync();
        await Expect(ann.Page.Locator("#nick-error")).ToContainTextAsync("name_taken");
        await ann.ExpectConnectedAsAsync("ann");
    }

    [Fact]
    public async Task The_client_works_at_phone_width_with_the_keyboard()
    {
        // In the dark colour scheme, to see that one too (screenshots).
        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, _server.BaseUri, name: "ann", viewport: ChatPage.Phone, colorScheme: ColorScheme.Dark);
        await ann.ExpectConnectedAsAsync("ann");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(_server, "bob");
        await bob.JoinAsync("lobby");
        await bob.SayAsync("lobby", "Welcome to the phone view!");
        await Expect(ann.MessageWithText("Welcome to the phone view!")).ToBeVisibleAsync();

        // The side panels are drawers: hidden until their button opens them.
        ILocator sidebar = ann.Page.Locator("#sidebar");
        await Expect(sidebar).ToBeHiddenAsync();
        await ann.Page.GetByRole(AriaRole.Button, new() { Name = "Rooms" }).ClickAsync();
        await Expect(sidebar).ToBeVisibleAsync();
        await ann.Page.Keyboard.PressAsync("Escape");
        await Expect(sidebar).ToBeHiddenAsync();

        // Keyboard only: tab from the message box to Send, and Enter sends.
        await ann.Composer.FocusAsync();
        await ann.Page.Keyboard.TypeAsync("typed on a phone");
        await ann.Page.Keyboard.PressAsync("Tab");
        await Expect(ann.Page.GetByRole(AriaRole.Button, new() { Name = "Send" })).ToBeFocusedAsync();
        await ann.Page.Keyboard.PressAsync("Enter");
        await bob.WaitForMessageAsync("lobby", "typed on a phone");
        await Expect(ann.MessageWithText("typed on a phone")).ToBeVisibleAsync();

        // Nothing is wider than the screen.
        int scrollWidth = await ann.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= ChatPage.Phone.Width, $"page is {scrollWidth}px wide at {ChatPage.Phone.Width}px");
        await Screenshots.SaveAsync(ann.Page, "chat-phone");
        await ann.Page.GetByRole(AriaRole.Button, new() { Name = "Members" }).ClickAsync();
        await Expect(ann.Members).ToHaveTextAsync(["ann (you)", "bob"]);
        await Screenshots.SaveAsync(ann.Page, "members-phone");
        Assert.Empty(ann.ScriptErrors);
    }
}
