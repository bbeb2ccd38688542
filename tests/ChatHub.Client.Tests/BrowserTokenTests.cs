using System.Text;
using ChatHub.Client.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>The browser client on a server with tokens: it sends the page's token, is named after its sub, and renews it with auth.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserTokenTests(BrowserFixture browser) : IAsyncLifetime
{
    private const string Secret = "a-browser-test-secret-of-32-bytes-or-more";
    private ChatServer _server = null!;

    public async Task InitializeAsync() => _server = await ChatServer.StartAsync(
        $"--ChatHub:Security:Token:SigningKey={Secret}", "--ChatHub:Security:Token:ClockSkew=00:00:00", "--ChatHub:Security:Token:ExpiryGrace=00:00:01");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_token_in_the_address_fragment_names_the_user_and_leaves_the_address_bar()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseUri, "/?name=mallory#token=" + Issue("ann", TimeSpan.FromMinutes(10))).ToString());
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Connected as ann");
        await Expect(page.Locator("#conversation-title")).ToHaveTextAsync("#lobby");
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_from_the_callback_is_renewed_before_it_expires_on_the_same_socket()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        int issued = 0;
        await page.ExposeFunctionAsync("issueTestToken", () =>
        {
            Interlocked.Increment(ref issued);
            return Issue("ann", TimeSpan.FromSeconds(6));
        });
        await page.AddInitScriptAsync("window.chathubToken = () => window.issueTestToken();");

        var authed = new List<string>();
        var secondAuthed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int sockets = 0;
        bool closed = false;
        page.WebSocket += (_, socket) =>
        {
            Interlocked.Increment(ref sockets);
            socket.Close += (_, _) => closed = true;
            socket.FrameReceived += (_, frame) =>
            {
                if (frame.Text?.Contains("\"type\":\"authed\"", StringComparison.Ordinal) == true)
                {
                    lock (authed)
                    {
                        authed.Add(frame.Text);
                        if (authed.Count == 2) secondAuthed.TrySetResult();
                    }
                }
            };
        };

        await page.GotoAsync(_server.BaseUri.ToString());
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Connected as ann");

        // 6-second tokens, renewed 2 s before they end; the second renewal comes after the first token's
        // exp plus the 1 s grace, so the socket outlived the token it was opened with.
        await secondAuthed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, sockets);
        Assert.False(closed);
        Assert.True(issued >= 3);
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Connected as ann");
    }

    private static string Issue(string sub, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = sub },
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
        });
    }
}
