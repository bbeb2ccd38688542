using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// One person using the browser client: what they can see and do, in the
/// words of the page (labels, buttons, visible text) rather than its internals.
/// </summary>
public sealed class ChatPage : IAsyncDisposable
{
    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 800 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <summary>
    /// The browser's time zone: UTC+05:30 all year (no daylight saving), so a
    /// test can work out the local time without the machine's tz database, and
    /// the half hour shows the conversion really happened.
    /// </summary>
    public const string TimeZone = "Asia/Kolkata";
    public static readonly TimeSpan TimeZoneOffset = new(5, 30, 0);

    private readonly IBrowserContext _context;

    private ChatPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    /// <summary>Browser console errors and uncaught exceptions, to fail tests on broken scripts.</summary>
    public List<string> ScriptErrors { get; } = [];

    /// <summary>Every text frame the page's WebSockets received, in order (read under a lock: Playwright adds from its own thread).</summary>
    public List<string> ReceivedFrames { get; } = [];

    /// <summary>Opens the client from <paramref name="baseUri"/> in a fresh browser context.</summary>
    public static async Task<ChatPage> OpenAsync(IBrowser browser, Uri baseUri, string? name = null, string? room = null, ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        IBrowserContext context = await browser.NewContextAsync(new() { ViewportSize = viewport ?? Desktop, Locale = "en-GB", TimezoneId = TimeZone, ColorScheme = colorScheme });
        IPage page = await context.NewPageAsync();
        var chatPage = new ChatPage(context, page);
        page.PageError += (_, error) => chatPage.ScriptErrors.Add(error);
        page.WebSocket += (_, socket) => socket.FrameReceived += (_, frame) =>
        {
            lock (chatPage.ReceivedFrames)
            {
                chatPage.ReceivedFrames.Add(frame.Text ?? "");
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("WebSocket", StringComparison.Ordinal)) chatPage.ScriptErrors.Add($"{message.Text} ({message.Location})");
        };
        var query = new List<string>();
        if (name is not null) query.Add($"name={Uri.EscapeDataString(name)}");
        if (room is not null) query.Add($"room={Uri.EscapeDataString(room)}");
        await page.GotoAsync(new Uri(baseUri, query.Count == 0 ? "/" : "/?" + string.Join("&", query)).ToString());
        return chatPage;
    }

    public ILocator Connection => Page.Locator("#connection");
    public ILocator Composer => Page.GetByLabel("Message", new() { Exact = true });
    public ILocator ConversationTitle => Page.Locator("#conversation-title");
    public ILocator Messages => Page.Locator("#message-list li.message");
    public ILocator Notes => Page.Locator("#message-list li.note");
    public ILocator Pending => Page.Locator("#pending-list li");
    public ILocator Members => Page.Locator("#member-list li");
    public ILocator JoinedRooms => Page.Locator("#joined-list li");
    public ILocator DirectMessageThreads => Page.Locator("#dm-list li");
    public ILocator RoomDirectory => Page.Locator("#room-directory li");

    public Task ExpectConnectedAsAsync(string name) =>
        Expect(Connection).ToHaveTextAsync($"Connected as {name}");

    /// <summary>Messages (room or DM lines) whose text is exactly <paramref name="text"/>.</summary>
    public ILocator MessageWithText(string text) =>
        Messages.Filter(new() { Has = Page.Locator(".text").Filter(new() { HasTextRegex = Exact(text) }) });

    public ILocator NoteWithText(string text) => Notes.Filter(new() { HasTextRegex = new Regex(Regex.Escape(text)) });

    public ILocator Member(string name) => Page.Locator($"#member-list li[data-member=\"{name}\"]");

    /// <summary>
    /// Types a line into the message box and presses Enter, as a person would: once a conversation is open.
    /// "Connected" comes with the welcome, before the first room is joined; a line typed in between has nowhere
    /// to go (the page says "Join a room first"), and a test that typed it would wait for it in vain.
    /// </summary>
    public async Task SendAsync(string line)
    {
        await Expect(Page.Locator("#conversation-title")).Not.ToHaveTextAsync("No conversation");
        await Composer.FillAsync(line);
        await Composer.PressAsync("Enter");
    }

    /// <summary>The seq numbers of the room messages shown, top to bottom.</summary>
    public async Task<long[]> ShownSeqsAsync()
    {
        IReadOnlyList<string?> values = await Page.Locator("#message-list li.message[data-seq]").EvaluateAllAsync<string?[]>("els => els.map(e => e.dataset.seq)");
        return values.Select(v => long.Parse(v!)).ToArray();
    }

    /// <summary>The texts of the room messages shown, top to bottom.</summary>
    public async Task<string[]> ShownTextsAsync() =>
        [.. await Page.Locator("#message-list li.message .text").AllTextContentsAsync()];

    public static Regex Exact(string text) => new($"^{Regex.Escape(text)}$");

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
