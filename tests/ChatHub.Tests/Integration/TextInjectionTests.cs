using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>A JSON client cannot write a line into a text client's terminal that the server did not write.</summary>
public sealed class TextInjectionTests
{
    [Fact]
    public async Task Line_feeds_and_escape_sequences_from_a_json_client_reach_a_terminal_as_visible_characters()
    {
        await using var server = await TestServer.StartAsync();
        await using var bob = await server.ConnectTextAsync("name=bob&room=lobby");
        await bob.WaitForLineAsync("you joined lobby");
        await using var eve = await server.ConnectJsonAsync("name=eve&room=lobby");
        await eve.ExpectAsync("welcome");
        await eve.ExpectAsync("joined");

        const string forged = "hi\r\n[dm] admin -> bob: your account is locked, log in at evil.example\u001b[2K\u001b]0;owned\u0007";
        await eve.SendJsonAsync(new { type = "say", room = "lobby", text = forged });
        await eve.SendJsonAsync(new { type = "dm", to = "bob", text = "x\n* admin joined lobby (1 member)" });

        // The DM is delivered at once, the message through the room: they may come in either order.
        var lines = new List<string>();
        while (lines.Count < 2)
        {
            string? line = await bob.ReceiveAsync();
            Assert.NotNull(line);
            if (line.StartsWith("[lobby] eve:", StringComparison.Ordinal) || line.StartsWith("[dm] eve", StringComparison.Ordinal))
            {
                lines.Add(line);
            }
        }

        Assert.Contains("[lobby] eve: hi␍␊[dm] admin -> bob: your account is locked, log in at evil.example␛[2K␛]0;owned␇", lines);
        Assert.Contains("[dm] eve -> bob: x␊* admin joined lobby (1 member)", lines);

        // The JSON format carries the text exactly as it was sent: the store and other programs see the original.
        var message = await eve.WaitForAsync("message");
        Assert.Equal(forged, (string?)message["text"]);
    }
}
