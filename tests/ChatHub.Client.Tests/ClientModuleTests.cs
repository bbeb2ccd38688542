using System.Text.Json;
using ChatHub.Client.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatHub.Client.Tests;

/// <summary>
/// The client's pure modules, imported as the browser imports them (served by
/// the real server), for the edge cases the end-to-end tests reach only by luck.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ClientModuleTests(BrowserFixture browser) : IAsyncLifetime
{
    private ChatServer _server = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _server = await ChatServer.StartAsync();
        _context = await browser.Browser.NewContextAsync();
        _page = await _context.NewPageAsync();
        // A blank page of the server's origin: the modules load, the app does not start.
        await _page.GotoAsync(new Uri(_server.BaseUri, "/favicon.svg").ToString());
    }

    public async Task DisposeAsync()
    {
        await _context.CloseAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("hello there", """{"kind":"say","text":"hello there"}""")]
    [InlineData("//slash at the start", """{"kind":"say","text":"/slash at the start"}""")]
    [InlineData("/msg bob see you  at 5", """{"kind":"dm","to":"bob","text":"see you  at 5"}""")]
    [InlineData("/nick ann", """{"kind":"nick","name":"ann"}""")]
    [InlineData("/join kitchen", """{"kind":"join","room":"kitchen"}""")]
    [InlineData("   ", """{"kind":"none"}""")]
    public async Task Composer_lines_become_actions(string line, string expected)
    {
        string actual = await _page.EvaluateAsync<string>(
            "async line => JSON.stringify((await import('/commands.js')).parseComposerLine(line))", line);
        Assert.Equal(Normalize(expected), Normalize(actual));
    }

    [Theory]
    [InlineData("/msg bob")]
    [InlineData("/nick")]
    [InlineData("/frobnicate")]
    public async Task Incomplete_or_unknown_commands_explain_themselves(string line)
    {
        string kind = await _page.EvaluateAsync<string>(
            "async line => (await import('/commands.js')).parseComposerLine(line).kind", line);
        Assert.Equal("usage", kind);
    }

    [Theory]
    [InlineData(6_000, 4_000)]          // short tokens: a third of the lifetime early
    [InlineData(60_000, 40_000)]
    [InlineData(3_600_000, 3_540_000)]  // long ones: a minute early at most
    [InlineData(1_500, 500)]            // very short: at least a second early
    public async Task Tokens_are_renewed_a_third_of_their_life_early_but_at_most_a_minute(int lifetimeMs, int expectedDelayMs)
    {
        int delay = await _page.EvaluateAsync<int>(
            "async ([lifetime]) => (await import('/token.js')).refreshDelayMs(1_000_000 + lifetime, 1_000_000, 1_000_000)", new[] { lifetimeMs });
        Assert.Equal(expectedDelayMs, delay);
    }

    [Fact]
    public async Task The_expiry_is_read_from_the_tokens_payload_and_garbage_has_none()
    {
        // {"sub":"ann","exp":1700000000} in base64url, with characters that need the -/_ mapping elsewhere.
        JsonElement result = await _page.EvaluateAsync<JsonElement>("""
            async () => {
              const { tokenExpiry } = await import('/token.js');
              const payload = btoa(JSON.stringify({ sub: 'ann>?', exp: 1700000000 })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
              return [tokenExpiry(`e30.${payload}.sig`), tokenExpiry('not a token'), tokenExpiry('e30.e30.sig')];
            }
            """);
        Assert.Equal("[1700000000000,null,null]", result.GetRawText());
    }

    [Fact]
    public async Task A_room_shows_each_seq_once_in_order_whatever_the_arrival_order()
    {
        int[] seqs = await _page.EvaluateAsync<int[]>("""
            async () => {
              const { Conversation } = await import('/conversation.js');
              const room = new Conversation('room', 'lobby');
              for (const seq of [5, 3, 4, 3, 1, 5, 2]) room.addMessage({ seq, from: 'bob', text: `m${seq}`, ts: '2026-01-01T00:00:00.000Z' });
              return room.entries.map(e => e.seq);
            }
            """);
        Assert.Equal([1, 2, 3, 4, 5], seqs);
    }

    [Fact]
    public async Task An_ack_ahead_of_its_broadcast_does_not_move_the_resume_point()
    {
        JsonElement result = await _page.EvaluateAsync<JsonElement>("""
            async () => {
              const { Conversation } = await import('/conversation.js');
              const room = new Conversation('room', 'lobby');
              room.addMessage({ seq: 1, from: 'bob', text: 'one' });
              room.addMessage({ seq: 3, from: 'ann', text: 'mine' }, { provisional: true });
              const beforeBroadcast = room.lastSeq;
              const duplicate = room.addMessage({ seq: 3, from: 'ann', text: 'mine' });
              return { beforeBroadcast, after: room.lastSeq, duplicate, count: room.entries.length };
            }
            """);
        Assert.Equal(1, result.GetProperty("beforeBroadcast").GetInt32());
        Assert.Equal(3, result.GetProperty("after").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("duplicate").ValueKind);
        Assert.Equal(2, result.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Notes_sit_after_the_newest_message_seen_when_they_happened()
    {
        string[] order = await _page.EvaluateAsync<string[]>("""
            async () => {
              const { Conversation } = await import('/conversation.js');
              const room = new Conversation('room', 'lobby');
              room.addMessage({ seq: 10, from: 'bob', text: 'ten' });
              room.addNote('carol joined');
              room.addMessage({ seq: 11, from: 'bob', text: 'eleven' });
              room.addMessage({ seq: 9, from: 'bob', text: 'nine' });
              return room.entries.map(e => e.text);
            }
            """);
        Assert.Equal(["nine", "ten", "carol joined", "eleven"], order);
    }

    [Fact]
    public async Task Backoff_doubles_with_jitter_up_to_the_cap_and_resets()
    {
        int[][] delays = await _page.EvaluateAsync<int[][]>("""
            async () => {
              const { Backoff } = await import('/backoff.js');
              const low = new Backoff({ initialMs: 250, maxMs: 8000, random: () => 0 });
              const high = new Backoff({ initialMs: 250, maxMs: 8000, random: () => 0.999999 });
              const run = b => Array.from({ length: 7 }, () => b.nextDelayMs());
              const first = [run(low), run(high)];
              low.reset();
              return [...first, [low.nextDelayMs()]];
            }
            """);
        Assert.Equal([125, 250, 500, 1000, 2000, 4000, 4000], delays[0]);
        Assert.Equal([250, 500, 1000, 2000, 4000, 8000, 8000], delays[1]);
        Assert.Equal([125], delays[2]);
    }

    private static string Normalize(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}
